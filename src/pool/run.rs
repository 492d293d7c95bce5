//! Running one statement on one connection, written once for every
//! backend: bind, execute, decode. Pool and transaction both call these.

use std::borrow::Cow;

use futures_util::TryStreamExt;
use sqlx::Executor;

use super::column_names;
use crate::backend::Driver;
use crate::error::{DbError, DbResult};
use crate::sql::placeholders::count_params;
use crate::value::cell::ExecuteResult;
use crate::value::{Param, Rows};

/// Runs a statement and decodes its rows. `first_only` stops after one row
/// (queryOne) without decoding the rest.
pub async fn fetch<DB, C>(
    conn: &mut C,
    sql: &str,
    params: &[Param],
    persistent: bool,
    first_only: bool,
) -> DbResult<Rows>
where
    C: Send,
    DB: Driver + sqlx::Database<Connection = C>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'c> &'c mut C: Executor<'c, Database = DB>,
{
    let (sql, args) = bind::<DB, C>(conn, sql, params, persistent).await?;
    let query = sqlx::query_with::<DB, _>(&sql, args).persistent(persistent);
    let mut rows = Rows::default();
    if first_only {
        if let Some(row) = query.fetch_optional(&mut *conn).await? {
            rows.columns = column_names::of(&row);
            DB::decode_row(&row, &mut rows.cells)?;
        }
        return Ok(rows);
    }
    let mut stream = query.fetch(&mut *conn);
    while let Some(row) = stream.try_next().await? {
        if rows.columns.is_empty() {
            rows.columns = column_names::of(&row);
        }
        DB::decode_row(&row, &mut rows.cells)?;
    }
    Ok(rows)
}

pub async fn execute<DB, C>(
    conn: &mut C,
    sql: &str,
    params: &[Param],
    persistent: bool,
) -> DbResult<ExecuteResult>
where
    C: Send,
    DB: Driver + sqlx::Database<Connection = C>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'c> &'c mut C: Executor<'c, Database = DB>,
{
    let (sql, args) = bind::<DB, C>(conn, sql, params, persistent).await?;
    let query = sqlx::query_with::<DB, _>(&sql, args).persistent(persistent);
    let result = query.execute(&mut *conn).await?;
    Ok(DB::execute_result(&result, &sql))
}

/// Checks the parameter count, rewrites placeholders, and builds the
/// arguments, typed as the backend wants them. When the types the server
/// inferred for the cached statement do not fit these values, the backend's
/// variant of the SQL is prepared and used instead.
async fn bind<'s, 'q, DB, C>(
    conn: &mut C,
    sql: &'s str,
    params: &'q [Param],
    persistent: bool,
) -> DbResult<(Cow<'s, str>, <DB as sqlx::Database>::Arguments<'q>)>
where
    DB: Driver + sqlx::Database<Connection = C>,
{
    check_param_count(sql, params)?;
    let sql = DB::sql(sql);
    let types = DB::inferred_types(conn, &sql, params, persistent).await?;
    let refused = match DB::arguments(params, types.as_deref()) {
        Ok(args) => return Ok((sql, args)),
        Err(e) => e,
    };
    match DB::variant_sql(&sql, params).filter(|_| types.is_some()) {
        None => Err(refused),
        Some(variant) => {
            let types = DB::inferred_types(conn, &variant, params, persistent).await?;
            let args = DB::arguments(params, types.as_deref())?;
            Ok((Cow::Owned(variant), args))
        }
    }
}

/// A statement whose `?` count differs from the parameters given would run
/// with NULLs or fail obscurely on some backends: refuse it up front.
pub fn check_param_count(sql: &str, params: &[Param]) -> DbResult<()> {
    match count_params(sql) {
        Some(n) if n != params.len() => Err(DbError::invalid_argument(format!(
            "the statement has {n} placeholder{} but {} parameter{} were given",
            if n == 1 { "" } else { "s" },
            params.len(),
            if params.len() == 1 { "" } else { "s" }
        ))),
        _ => Ok(()),
    }
}

/// One statement of a `batch`.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Param>,
}

/// Runs statements in order on a connection already inside a transaction;
/// the failing statement's index is named in the error.
pub async fn execute_all<DB, C>(
    conn: &mut C,
    statements: &[Statement],
    persistent: bool,
) -> DbResult<Vec<ExecuteResult>>
where
    C: Send,
    DB: Driver + sqlx::Database<Connection = C>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    for<'c> &'c mut C: Executor<'c, Database = DB>,
{
    let mut results = Vec::with_capacity(statements.len());
    for (i, st) in statements.iter().enumerate() {
        let r = execute::<DB, C>(conn, &st.sql, &st.params, persistent)
            .await
            .map_err(|e| DbError {
                message: format!(
                    "batch statement {i} failed, nothing was applied: {}",
                    e.message
                ),
                ..e
            })?;
        results.push(r);
    }
    Ok(results)
}
