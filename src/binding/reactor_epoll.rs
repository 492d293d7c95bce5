//! Finding the epoll descriptor a new tokio runtime made, so that libuv
//! can watch it. tokio does not expose it: the runtime's descriptors are
//! told apart from the process's others through `/proc/self`.

use std::ffi::c_int;

/// The epoll descriptor the runtime just made. tokio keeps a duplicate of
/// it, so every new one must watch the same descriptors; otherwise another
/// thread made one meanwhile and the two cannot be told apart.
pub fn new_epoll_fd(before: &[c_int]) -> Option<c_int> {
    let new: Vec<c_int> = epoll_fds()
        .into_iter()
        .filter(|fd| !before.contains(fd))
        .collect();
    let watched = watched_fds(*new.first()?);
    if watched.is_empty() || new.iter().any(|fd| watched_fds(*fd) != watched) {
        return None;
    }
    new.first().copied()
}

/// The open epoll descriptors of this process.
pub fn epoll_fds() -> Vec<c_int> {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| {
            std::fs::read_link(e.path())
                .is_ok_and(|target| target.as_os_str() == "anon_inode:[eventpoll]")
        })
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

/// The descriptors an epoll instance watches (its `tfd:` lines), sorted.
fn watched_fds(epoll: c_int) -> Vec<String> {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{epoll}")).unwrap_or_default();
    let mut fds: Vec<String> = info
        .lines()
        .filter_map(|l| l.strip_prefix("tfd:"))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    fds.sort();
    fds
}
