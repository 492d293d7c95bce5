//! Parameters and rows on a pipelined connection, with the leased path's
//! meaning: parameters encoded by `postgres_params` (the same code, so the
//! same types and refusals), rows decoded into the same cells as
//! `backend::postgres::decode_value`. A column type not listed here sends
//! the statement down the leased path (see `Prepared::supported`).

use std::borrow::Cow;
use std::error::Error;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use sqlx::types::Uuid;
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type};
use tokio_postgres::Row;

use crate::backend::postgres::json_array;
use crate::backend::postgres_params::{encode_bytes, ServerType, Shape};
use crate::error::{DbError, DbResult, ErrorCode};
use crate::value::numeric::pg_numeric_to_string;
use crate::value::{Cell, Param, Rows};

type BoxError = Box<dyn Error + Sync + Send>;

impl ServerType for Type {
    fn type_name(&self) -> Cow<'_, str> {
        match (self.schema(), self.kind()) {
            ("pg_catalog", Kind::Array(element)) => {
                Cow::Owned(format!("{}[]", element.name().to_ascii_uppercase()))
            }
            ("pg_catalog", _) => Cow::Owned(self.name().to_ascii_uppercase()),
            _ => Cow::Borrowed(self.name()),
        }
    }

    fn shape(&self) -> Shape<'_, Self> {
        match self.kind() {
            Kind::Array(element) => Shape::Array(element),
            Kind::Enum(_) => Shape::Enum,
            _ => Shape::Scalar,
        }
    }

    fn type_oid(&self) -> Option<u32> {
        Some(self.oid())
    }
}

/// A parameter already in its type's binary format (`None`: NULL).
#[derive(Debug)]
pub struct Encoded(Option<Vec<u8>>);

impl ToSql for Encoded {
    fn to_sql(&self, _: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        match &self.0 {
            None => Ok(IsNull::Yes),
            Some(b) => {
                out.extend_from_slice(b);
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// Encodes every parameter as the types the statement was prepared with.
pub fn encode_all(params: &[Param], types: &[Type]) -> DbResult<Vec<Encoded>> {
    if types.len() != params.len() {
        return Err(DbError::invalid_argument(format!(
            "the statement takes {} parameters but {} were given",
            types.len(),
            params.len()
        )));
    }
    params
        .iter()
        .zip(types)
        .enumerate()
        .map(|(index, (param, ty))| encode_bytes(param, ty, index).map(Encoded))
        .collect()
}

const TEXTUAL: &[&str] = &[
    "TEXT", "VARCHAR", "BPCHAR", "NAME", "CHAR", "UNKNOWN", "XML", "citext", "CITEXT",
];

const DECODED: &[&str] = &[
    "BOOL",
    "INT2",
    "INT4",
    "INT8",
    "OID",
    "FLOAT4",
    "FLOAT8",
    "NUMERIC",
    "BYTEA",
    "UUID",
    "JSON",
    "JSONB",
    "TIMESTAMPTZ",
    "TIMESTAMP",
    "DATE",
    "TIME",
    "INT2[]",
    "INT4[]",
    "INT8[]",
    "FLOAT8[]",
    "BOOL[]",
    "TEXT[]",
    "VARCHAR[]",
    "UUID[]",
];

/// Whether a column of this type decodes here exactly as on the leased path.
pub fn column_supported(ty: &Type) -> bool {
    let name = ty.type_name();
    matches!(ty.kind(), Kind::Enum(_))
        || TEXTUAL.contains(&name.as_ref())
        || DECODED.contains(&name.as_ref())
}

/// Any column's bytes, undecoded.
struct Raw<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Raw(raw))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Appends `row`'s values to `rows`, in column order.
pub fn decode_row(row: &Row, rows: &mut Rows) -> DbResult<()> {
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let fail = |e: BoxError| {
            DbError::new(
                ErrorCode::QueryFailed,
                format!("could not decode column {i} ({}): {e}", ty.type_name()),
            )
        };
        let raw = match row.try_get::<_, Option<Raw>>(i) {
            Ok(Some(Raw(raw))) => raw,
            Ok(None) => {
                rows.cells.push(Cell::Null);
                continue;
            }
            Err(e) => return Err(fail(e.into())),
        };
        if let Some(text) = as_text(ty, raw) {
            rows.push_text(text.map_err(|e| fail(e.into()))?);
            continue;
        }
        rows.cells.push(decode(ty, raw).map_err(fail)?);
    }
    Ok(())
}

/// Text types and enums are UTF-8 in their binary form.
fn as_text<'a>(ty: &Type, raw: &'a [u8]) -> Option<Result<&'a str, std::str::Utf8Error>> {
    let textual = matches!(ty.kind(), Kind::Enum(_)) || TEXTUAL.contains(&ty.type_name().as_ref());
    textual.then(|| std::str::from_utf8(raw))
}

fn decode(ty: &Type, raw: &[u8]) -> Result<Cell, BoxError> {
    fn get<'a, T: FromSql<'a>>(ty: &Type, raw: &'a [u8]) -> Result<T, BoxError> {
        T::from_sql(ty, raw)
    }
    Ok(match ty.type_name().as_ref() {
        "BOOL" => Cell::Bool(get(ty, raw)?),
        "INT2" => Cell::Int(get::<i16>(ty, raw)? as i64),
        "INT4" => Cell::Int(get::<i32>(ty, raw)? as i64),
        "INT8" => Cell::Int(get(ty, raw)?),
        "OID" => Cell::Int(get::<u32>(ty, raw)? as i64),
        "FLOAT4" => Cell::Float(get::<f32>(ty, raw)? as f64),
        "FLOAT8" => Cell::Float(get(ty, raw)?),
        "NUMERIC" => Cell::Decimal(pg_numeric_to_string(raw).ok_or("malformed NUMERIC")?),
        "BYTEA" => Cell::Bytes(raw.to_vec()),
        "UUID" => Cell::Text(get::<Uuid>(ty, raw)?.to_string()),
        "JSON" | "JSONB" => Cell::Json(get(ty, raw)?),
        "TIMESTAMPTZ" => Cell::Timestamp(get::<DateTime<Utc>>(ty, raw)?.timestamp_millis() as f64),
        "TIMESTAMP" => {
            Cell::Timestamp(get::<NaiveDateTime>(ty, raw)?.and_utc().timestamp_millis() as f64)
        }
        "DATE" => Cell::Timestamp(
            get::<NaiveDate>(ty, raw)?
                .and_hms_opt(0, 0, 0)
                .map_or(0.0, |d| d.and_utc().timestamp_millis() as f64),
        ),
        "TIME" => Cell::Text(get::<NaiveTime>(ty, raw)?.to_string()),
        "INT2[]" => json_array(get::<Vec<Option<i16>>>(ty, raw)?),
        "INT4[]" => json_array(get::<Vec<Option<i32>>>(ty, raw)?),
        "INT8[]" => json_array(get::<Vec<Option<i64>>>(ty, raw)?),
        "FLOAT8[]" => json_array(get::<Vec<Option<f64>>>(ty, raw)?),
        "BOOL[]" => json_array(get::<Vec<Option<bool>>>(ty, raw)?),
        "TEXT[]" | "VARCHAR[]" => json_array(get::<Vec<Option<String>>>(ty, raw)?),
        "UUID[]" => json_array(
            get::<Vec<Option<Uuid>>>(ty, raw)?
                .into_iter()
                .map(|u| u.map(|u| u.to_string()))
                .collect::<Vec<_>>(),
        ),
        other => return Err(format!("type {other} is not decoded here").into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_types_are_named_as_sqlx_names_them() {
        assert_eq!(Type::INT4.type_name(), "INT4");
        assert_eq!(Type::TIMESTAMPTZ.type_name(), "TIMESTAMPTZ");
        assert_eq!(Type::TEXT_ARRAY.type_name(), "TEXT[]");
        let citext = Type::new("citext".into(), 90000, Kind::Simple, "public".into());
        assert_eq!(citext.type_name(), "citext");
        assert!(column_supported(&citext));
        assert!(!column_supported(&Type::INTERVAL));
        assert!(!column_supported(&Type::INET));
    }

    #[test]
    fn parameters_are_encoded_by_the_leased_paths_rules() {
        let encoded = encode_all(&[Param::Text("5".into())], &[Type::INT4]).unwrap();
        assert_eq!(encoded[0].0, Some(5i32.to_be_bytes().to_vec()));
        let e = encode_all(&[Param::Text("nope".into())], &[Type::UUID]).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgument);
        assert!(e.message.contains("uuid"), "{}", e.message);
        let e = encode_all(&[], &[Type::INT4]).unwrap_err();
        assert!(
            e.message.contains("takes 1 parameters but 0"),
            "{}",
            e.message
        );
    }
}
