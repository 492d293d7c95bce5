//! `query` / `queryOne` / `execute` for both the pool and a transaction:
//! the same argument handling and the same promise shapes, written once.

use std::sync::Arc;

use napi::bindgen_prelude::{PromiseRaw, Unknown};
use napi::Env;

use super::call::{settle, statement_args};
use super::js_error::Settled;
use super::js_rows::{JsExecuteResult, JsFirstRow, JsRows};
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

    // A transaction's statement always runs through sqlx, whose state
    // machine is large: boxed, so that every pool call is not as large.
    async fn query(&self, sql: &str, params: &[Param], first_only: bool) -> DbResult<Rows> {
        match self {
            Target::Pool(p) => p.query(sql, params, first_only).await,
            Target::Transaction(t) => Box::pin(t.query(sql, params, first_only)).await,
        }
    }

    async fn execute(&self, sql: &str, params: &[Param]) -> DbResult<ExecuteResult> {
        match self {
            Target::Pool(p) => p.execute(sql, params).await,
            Target::Transaction(t) => Box::pin(t.execute(sql, params)).await,
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
    let args = target.args(env, sql, params);
    settle(env, async move {
        let (sql, params) = args?;
        target.query(&sql, &params, false).await.map(JsRows)
    })
}

pub fn query_one<'env>(
    env: &'env Env,
    target: Target,
    sql: Unknown,
    params: Option<Unknown>,
) -> napi::Result<PromiseRaw<'env, Settled<JsFirstRow>>> {
    let args = target.args(env, sql, params);
    settle(env, async move {
        let (sql, params) = args?;
        target.query(&sql, &params, true).await.map(JsFirstRow)
    })
}

pub fn execute<'env>(
    env: &'env Env,
    target: Target,
    sql: Unknown,
    params: Option<Unknown>,
) -> napi::Result<PromiseRaw<'env, Settled<JsExecuteResult>>> {
    let args = target.args(env, sql, params);
    settle(env, async move {
        let (sql, params) = args?;
        target.execute(&sql, &params).await.map(JsExecuteResult)
    })
}
