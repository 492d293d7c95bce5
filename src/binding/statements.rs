//! `query` / `queryOne` / `execute` for both the pool and a transaction:
//! the same argument handling and the same promise shapes, written once.

use std::sync::Arc;

use napi::bindgen_prelude::{PromiseRaw, ToNapiValue, Unknown};
use napi::Env;

use super::call::{settle_fast, statement_args};
use super::js_error::Settled;
use super::js_rows::{JsExecuteResult, JsFirstRow, JsRows};
use crate::backend::sqlite_inline::{Output, Want};
use crate::error::{DbResult, ErrorCode};
use crate::pool::{DbPool, DbTransaction};
use crate::value::cell::ExecuteResult;
use crate::value::{Param, Rows};

/// Where a statement runs.
#[derive(Clone)]
pub enum Target {
    Pool(DbPool),
    Transaction(Arc<DbTransaction>),
}

impl Target {
    fn record_error(&self, code: ErrorCode) {
        match self {
            Target::Pool(p) => p.record_error(code),
            Target::Transaction(t) => t.record_error(code),
        }
    }

    /// The statement run synchronously, when it can be (see `pool::inline`).
    fn try_inline(
        &self,
        args: &DbResult<(String, Vec<Param>)>,
        want: Want,
    ) -> Option<DbResult<Output>> {
        match (self, args) {
            (Target::Pool(p), Ok((sql, params))) => p.try_inline(sql, params, want),
            _ => None,
        }
    }

    async fn query(&self, sql: &str, params: &[Param], first_only: bool) -> DbResult<Rows> {
        match self {
            Target::Pool(p) => p.query(sql, params, first_only).await,
            Target::Transaction(t) => t.query(sql, params, first_only).await,
        }
    }

    async fn execute(&self, sql: &str, params: &[Param]) -> DbResult<ExecuteResult> {
        match self {
            Target::Pool(p) => p.execute(sql, params).await,
            Target::Transaction(t) => t.execute(sql, params).await,
        }
    }

    /// Reads the arguments; a bad one is counted like any other failure.
    fn args(
        &self,
        env: &Env,
        sql: Unknown,
        params: Option<Unknown>,
    ) -> DbResult<(String, Vec<Param>)> {
        let args = statement_args(env, sql, params);
        if let Err(e) = &args {
            self.record_error(e.code);
        }
        args
    }
}

pub fn query<'env>(
    env: &'env Env,
    target: Target,
    sql: Unknown,
    params: Option<Unknown>,
) -> napi::Result<PromiseRaw<'env, Settled<JsRows>>> {
    rows(env, target, sql, params, false, JsRows)
}

pub fn query_one<'env>(
    env: &'env Env,
    target: Target,
    sql: Unknown,
    params: Option<Unknown>,
) -> napi::Result<PromiseRaw<'env, Settled<JsFirstRow>>> {
    rows(env, target, sql, params, true, JsFirstRow)
}

fn rows<'env, T: ToNapiValue + Send + 'static>(
    env: &'env Env,
    target: Target,
    sql: Unknown,
    params: Option<Unknown>,
    first_only: bool,
    shape: fn(Rows) -> T,
) -> napi::Result<PromiseRaw<'env, Settled<T>>> {
    let args = target.args(env, sql, params);
    let want = if first_only {
        Want::FirstRow
    } else {
        Want::Rows
    };
    settle_fast(
        env,
        (target, args),
        |(target, args)| {
            let done = target.try_inline(args, want)?;
            Some(done.map(|out| shape(out.into_rows())))
        },
        move |(target, args)| async move {
            let (sql, params) = args?;
            target.query(&sql, &params, first_only).await.map(shape)
        },
    )
}

pub fn execute<'env>(
    env: &'env Env,
    target: Target,
    sql: Unknown,
    params: Option<Unknown>,
) -> napi::Result<PromiseRaw<'env, Settled<JsExecuteResult>>> {
    let args = target.args(env, sql, params);
    settle_fast(
        env,
        (target, args),
        |(target, args)| {
            let done = target.try_inline(args, Want::Execute)?;
            Some(done.map(|out| JsExecuteResult(out.into_execute_result())))
        },
        move |(target, args)| async move {
            let (sql, params) = args?;
            target.execute(&sql, &params).await.map(JsExecuteResult)
        },
    )
}
