//! Property tests of the pure parsers and converters: whatever the input,
//! they return a value or a coded error, never panic, and keep their
//! invariants (no password in any message, placeholders numbered in order,
//! numbers classified losslessly).

use proptest::prelude::*;

use crate::config::options::{PoolConfig, RawOptions, RawValue};
use crate::config::redact::redact_credentials;
use crate::config::url::DatabaseUrl;
use crate::error::ErrorCode;
use crate::metrics::histogram::Histogram;
use crate::sql::placeholders::{count_params, to_numbered};
use crate::value::numeric::pg_numeric_to_string;
use crate::value::Param;

fn any_raw_value() -> impl Strategy<Value = RawValue> {
    prop_oneof![
        any::<f64>().prop_map(RawValue::Number),
        (-5i64..100_000).prop_map(|n| RawValue::Number(n as f64)),
        ".{0,40}".prop_map(RawValue::Text),
        any::<bool>().prop_map(RawValue::Bool),
        prop::collection::vec(".{0,20}", 0..3).prop_map(RawValue::TextList),
        Just(RawValue::Other("a symbol".into())),
    ]
}

const OPTION_NAMES: &[&str] = &[
    "url",
    "maxConnections",
    "minConnections",
    "acquireTimeoutMs",
    "connectTimeoutMs",
    "idleTimeoutMs",
    "maxLifetimeMs",
    "statementTimeoutMs",
    "leakDetectionMs",
    "healthCheckIntervalMs",
    "sessionCleanupIntervalMs",
    "statementCache",
    "applicationName",
    "pgbouncer",
    "readReplicaUrls",
    "bogus",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_url_parses_or_is_invalid_url(raw in ".{0,80}") {
        match DatabaseUrl::parse(&raw) {
            Ok(_) => {}
            Err(e) => prop_assert_eq!(e.code, ErrorCode::InvalidUrl),
        }
    }

    #[test]
    fn url_errors_never_echo_the_password(user in "[a-z]{1,8}", password in "[A-Za-z0-9]{8,16}", host in "[a-z]{0,8}", tail in ".{0,20}") {
        let raw = format!("postgres://{user}:{password}@{host}/{tail}");
        if let Err(e) = DatabaseUrl::parse(&raw) {
            prop_assert!(!e.message.contains(&password), "{}", e.message);
        }
        let shown = redact_credentials(&format!("failed: {}", raw));
        prop_assert!(!shown.contains(&password), "{}", shown);
    }

    #[test]
    fn any_options_give_a_config_or_a_coded_error(
        pairs in prop::collection::vec((prop::sample::select(OPTION_NAMES), any_raw_value()), 0..6)
    ) {
        let raw = RawOptions(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
        match PoolConfig::from_raw_with_env(&raw, None) {
            Ok(c) => {
                prop_assert!(c.max_connections >= 1);
                prop_assert!(c.min_connections <= c.max_connections);
                prop_assert!(!c.acquire_timeout.is_zero());
            }
            Err(e) => prop_assert!(matches!(e.code, ErrorCode::InvalidArgument | ErrorCode::InvalidUrl)),
        }
    }

    #[test]
    fn placeholders_are_numbered_in_order(parts in prop::collection::vec("[a-z ,=()]{1,6}", 1..8)) {
        // Parts are non-empty: `??` is the escape for a literal `?`.
        let sql = parts.join("?");
        let numbered = to_numbered(&sql);
        let expected: String = parts
            .iter()
            .enumerate()
            .map(|(i, p)| if i == 0 { p.clone() } else { format!("${i}{p}") })
            .collect();
        prop_assert_eq!(numbered.as_ref(), expected.as_str());
        prop_assert_eq!(count_params(&sql), Some(parts.len() - 1));
    }

    #[test]
    fn placeholder_scanning_never_panics(sql in ".{0,60}") {
        let _ = to_numbered(&sql);
        let _ = count_params(&sql);
    }

    #[test]
    fn numbers_keep_their_value(n in any::<f64>()) {
        match Param::from_number(0, n) {
            Ok(Param::Int(i)) => prop_assert_eq!(i as f64, n + 0.0),
            Ok(Param::Float(f)) => prop_assert_eq!(f.to_bits(), n.to_bits()),
            Ok(other) => prop_assert!(false, "unexpected {:?}", other),
            Err(e) => {
                prop_assert!(!n.is_finite());
                prop_assert_eq!(e.code, ErrorCode::InvalidArgument);
            }
        }
    }

    #[test]
    fn numeric_decoding_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..40)) {
        let _ = pg_numeric_to_string(&bytes);
    }

    #[test]
    fn numeric_text_round_trips(int in "[1-9][0-9]{0,25}|0", frac in "[0-9]{0,20}", negative in any::<bool>()) {
        let text = format!("{}{}{}", if negative && int != "0" { "-" } else { "" }, int, if frac.is_empty() { String::new() } else { format!(".{frac}") });
        let wire = crate::backend::postgres_params::encode_numeric(&text).expect("valid decimal");
        prop_assert_eq!(pg_numeric_to_string(&wire).unwrap(), text);
    }

    #[test]
    fn histogram_percentiles_are_ordered(samples in prop::collection::vec(0u64..10_000_000_000, 1..200)) {
        let h = Histogram::default();
        for ns in &samples {
            h.record(std::time::Duration::from_nanos(*ns));
        }
        let s = h.summary();
        prop_assert_eq!(s.count, samples.len() as u64);
        prop_assert!(s.p50 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.max);
    }
}
