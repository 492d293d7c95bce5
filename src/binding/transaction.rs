//! `class Transaction`: returned by `pool.begin()`.

use std::sync::Arc;

use napi::bindgen_prelude::{PromiseRaw, Unknown};
use napi::Env;
use napi_derive::napi;

use super::call::settle;
use super::js_error::Settled;
use super::js_rows::{JsExecuteResult, JsFirstRow, JsRows};
use super::statements::{self, Target};
use crate::pool::DbTransaction;

/// An open transaction holding one connection. Use it, then `commit()` or
/// `rollback()`; afterwards every call rejects with `TRANSACTION_CLOSED`.
/// A transaction that is garbage-collected while open is rolled back.
#[napi]
pub struct Transaction {
    inner: Arc<DbTransaction>,
}

impl Transaction {
    pub fn new(inner: DbTransaction) -> Self {
        Transaction {
            inner: Arc::new(inner),
        }
    }
}

#[napi]
impl Transaction {
    /// True once `commit()` or `rollback()` has been called.
    #[napi(getter)]
    pub fn finished(&self) -> bool {
        self.inner.is_finished()
    }

    #[napi(
        ts_generic_types = "T = Row",
        ts_args_type = "sql: string, params?: Param[]",
        ts_return_type = "Promise<T[]>"
    )]
    pub fn query<'env>(
        &self,
        env: &'env Env,
        sql: Unknown,
        params: Option<Unknown>,
    ) -> napi::Result<PromiseRaw<'env, Settled<JsRows>>> {
        statements::query(env, Target::Transaction(self.inner.clone()), sql, params)
    }

    #[napi(
        ts_generic_types = "T = Row",
        ts_args_type = "sql: string, params?: Param[]",
        ts_return_type = "Promise<T | null>"
    )]
    pub fn query_one<'env>(
        &self,
        env: &'env Env,
        sql: Unknown,
        params: Option<Unknown>,
    ) -> napi::Result<PromiseRaw<'env, Settled<JsFirstRow>>> {
        statements::query_one(env, Target::Transaction(self.inner.clone()), sql, params)
    }

    #[napi(
        ts_args_type = "sql: string, params?: Param[]",
        ts_return_type = "Promise<ExecuteResult>"
    )]
    pub fn execute<'env>(
        &self,
        env: &'env Env,
        sql: Unknown,
        params: Option<Unknown>,
    ) -> napi::Result<PromiseRaw<'env, Settled<JsExecuteResult>>> {
        statements::execute(env, Target::Transaction(self.inner.clone()), sql, params)
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn commit<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Settled<()>>> {
        let tx = self.inner.clone();
        settle(env, async move { tx.commit().await })
    }

    #[napi(ts_return_type = "Promise<void>")]
    pub fn rollback<'env>(&self, env: &'env Env) -> napi::Result<PromiseRaw<'env, Settled<()>>> {
        let tx = self.inner.clone();
        settle(env, async move { tx.rollback().await })
    }
}
