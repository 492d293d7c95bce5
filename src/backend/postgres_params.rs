//! PostgreSQL parameters typed by the server, as node-postgres users expect.
//!
//! node-postgres sends every parameter untyped and lets the server infer
//! its type from context, so `uuid_col = ?` with a string, `int_col = ?`
//! with `'5'` or a NUMERIC written from a string all work. sqlx would send
//! fixed types (`text`, `int8`), which PostgreSQL refuses or compares
//! without indexes. We prepare the statement with the parameters left
//! untyped, read the types the server inferred (cached with the statement),
//! and encode each JS value in that type's binary format ourselves. Values
//! that cannot become that type are refused with INVALID_ARGUMENT.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sqlx::encode::IsNull;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgTypeKind, Postgres};
use sqlx::TypeInfo;

use super::parse_text_timestamp;
use crate::error::{DbError, DbResult};
use crate::value::Param;

/// Microseconds (timestamps) and days (dates) count from 2000-01-01 in
/// PostgreSQL's binary formats.
const PG_EPOCH_MS: i64 = 946_684_800_000;

/// The type we ask for when the statement is first prepared. Numbers,
/// booleans and bytes keep their JS type, so `SELECT ? AS n` gives back a
/// number (int8 compares with int4 columns inside the same index family);
/// strings, Dates, objects and nulls are left to the server, which types
/// them from context (`uuid_col = ?`, a `timestamp(3)` column, `= ANY(?)`),
/// or as text where nothing constrains them. Later calls reuse the types the
/// statement was prepared with.
pub fn declared_type(p: &Param) -> PgTypeInfo {
    match p {
        Param::Int(_) => <i64 as sqlx::Type<Postgres>>::type_info(),
        Param::Float(_) => <f64 as sqlx::Type<Postgres>>::type_info(),
        Param::Bool(_) => <bool as sqlx::Type<Postgres>>::type_info(),
        Param::Bytes(_) => <Vec<u8> as sqlx::Type<Postgres>>::type_info(),
        _ => PgTypeInfo::with_oid(sqlx::postgres::types::Oid(0)),
    }
}

/// A short name for a list of declared types, e.g. `int8,unknown,bool`.
pub fn signature(declared: &[PgTypeInfo]) -> String {
    declared
        .iter()
        .map(|t| {
            if t.oid().is_none_or(|o| o.0 == 0) {
                "unknown".to_owned()
            } else {
                t.name().to_ascii_lowercase()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A value already in the wire format of a given type.
#[derive(Debug)]
pub struct Wire {
    ty: PgTypeInfo,
    bytes: Option<Vec<u8>>,
}

impl sqlx::Type<Postgres> for Wire {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(sqlx::postgres::types::Oid(0))
    }
}

impl<'q> sqlx::Encode<'q, Postgres> for Wire {
    fn encode_by_ref(
        &self,
        buf: &mut PgArgumentBuffer,
    ) -> Result<IsNull, sqlx::error::BoxDynError> {
        match &self.bytes {
            None => Ok(IsNull::Yes),
            Some(b) => {
                buf.extend_from_slice(b);
                Ok(IsNull::No)
            }
        }
    }

    fn produces(&self) -> Option<PgTypeInfo> {
        Some(self.ty.clone())
    }
}

/// Encodes `param` as the server's type `ty` for parameter `index`.
pub fn encode(param: &Param, ty: &PgTypeInfo, index: usize) -> DbResult<Wire> {
    Ok(Wire {
        ty: ty.clone(),
        bytes: encode_bytes(param, ty, index)?,
    })
}

/// What encoding needs to know of a parameter's server type, whichever
/// driver described it (sqlx's `PgTypeInfo`, tokio-postgres's `Type`).
pub trait ServerType: Sized {
    /// Spelled as sqlx does: built-in types upper-case (`INT4`), others as
    /// declared (`citext`).
    fn type_name(&self) -> std::borrow::Cow<'_, str>;
    fn shape(&self) -> Shape<'_, Self>;
    fn type_oid(&self) -> Option<u32>;
}

pub enum Shape<'a, T> {
    Scalar,
    Enum,
    Array(&'a T),
}

impl ServerType for PgTypeInfo {
    fn type_name(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(self.name())
    }
    fn shape(&self) -> Shape<'_, Self> {
        match self.kind() {
            PgTypeKind::Array(element) => Shape::Array(element),
            PgTypeKind::Enum(_) => Shape::Enum,
            _ => Shape::Scalar,
        }
    }
    fn type_oid(&self) -> Option<u32> {
        self.oid().map(|o| o.0)
    }
}

/// `param` in the binary format of `ty`; `None` for NULL.
pub fn encode_bytes<T: ServerType>(
    param: &Param,
    ty: &T,
    index: usize,
) -> DbResult<Option<Vec<u8>>> {
    if matches!(param, Param::Null) {
        return Ok(None);
    }
    Ok(Some(match ty.shape() {
        Shape::Array(element) => encode_array(param, element, index)?,
        Shape::Enum => text_of(param, ty, index)?.into_bytes(),
        Shape::Scalar => encode_scalar(param, ty, index)?,
    }))
}

fn refuse<T: ServerType>(param: &Param, ty: &T, index: usize, why: &str) -> DbError {
    let what = match param {
        Param::Null => "null",
        Param::Bool(_) => "a boolean",
        Param::Int(_) | Param::Float(_) => "a number",
        Param::Text(_) => "a string",
        Param::Bytes(_) => "a Buffer",
        Param::Json(_) => "an object/array",
        Param::Timestamp(_) => "a Date",
    };
    DbError::invalid_argument(format!(
        "parameter {index} is {what}, which cannot be sent as PostgreSQL {}{}{why}",
        ty.type_name().to_ascii_lowercase(),
        if why.is_empty() { "" } else { ": " }
    ))
}

fn encode_scalar<T: ServerType>(param: &Param, ty: &T, index: usize) -> DbResult<Vec<u8>> {
    let fail = |why: &str| refuse(param, ty, index, why);
    Ok(match &*ty.type_name() {
        "BOOL" => vec![match param {
            Param::Bool(b) => *b as u8,
            Param::Int(0) => 0,
            Param::Int(1) => 1,
            Param::Text(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "1" | "yes" | "on" => 1,
                "false" | "f" | "0" | "no" | "off" => 0,
                _ => return Err(fail("not a boolean")),
            },
            _ => return Err(fail("")),
        }],
        "INT2" => (integer(param).ok_or_else(|| fail("not an integer"))?.try_into() as Result<i16, _>)
            .map_err(|_| fail("out of range for smallint"))?
            .to_be_bytes()
            .to_vec(),
        "INT4" => (integer(param).ok_or_else(|| fail("not an integer"))?.try_into() as Result<i32, _>)
            .map_err(|_| fail("out of range for integer"))?
            .to_be_bytes()
            .to_vec(),
        "INT8" => integer(param)
            .ok_or_else(|| fail("not an integer (the statement was prepared for bigint; cast the placeholder, e.g. ?::float8)"))?
            .to_be_bytes()
            .to_vec(),
        "OID" => (integer(param).ok_or_else(|| fail("not an integer"))?.try_into() as Result<u32, _>)
            .map_err(|_| fail("out of range for oid"))?
            .to_be_bytes()
            .to_vec(),
        "FLOAT4" => (float(param).ok_or_else(|| fail("not a number"))? as f32).to_be_bytes().to_vec(),
        "FLOAT8" => float(param).ok_or_else(|| fail("not a number"))?.to_be_bytes().to_vec(),
        "NUMERIC" => {
            let text = match param {
                Param::Int(i) => i.to_string(),
                Param::Float(f) => f.to_string(),
                Param::Text(s) => s.trim().to_owned(),
                _ => return Err(fail("")),
            };
            encode_numeric(&text).ok_or_else(|| fail("not a decimal number"))?
        }
        "UUID" => match param {
            Param::Text(s) => sqlx::types::Uuid::parse_str(s.trim()).map_err(|_| fail("not a UUID"))?.as_bytes().to_vec(),
            Param::Bytes(b) if b.len() == 16 => b.clone(),
            _ => return Err(fail("")),
        },
        "BYTEA" => match param {
            Param::Bytes(b) => b.clone(),
            Param::Text(s) => s.as_bytes().to_vec(),
            _ => return Err(fail("")),
        },
        "JSON" => json_text(param).ok_or_else(|| fail("not JSON"))?.into_bytes(),
        "JSONB" => {
            let mut b = vec![1u8];
            b.extend(json_text(param).ok_or_else(|| fail("not JSON"))?.into_bytes());
            b
        }
        "TIMESTAMPTZ" | "TIMESTAMP" => {
            let ms = instant_ms(param).ok_or_else(|| fail("not a date/time"))?;
            ((ms - PG_EPOCH_MS) * 1000).to_be_bytes().to_vec()
        }
        "DATE" => {
            let ms = instant_ms(param).ok_or_else(|| fail("not a date"))?;
            let days = (ms - PG_EPOCH_MS).div_euclid(86_400_000);
            i32::try_from(days).map_err(|_| fail("out of range"))?.to_be_bytes().to_vec()
        }
        // text, varchar, char(n), name, citext, unknown and the like take
        // UTF-8 text as their binary form.
        _ if text_like(ty) => text_of(param, ty, index)?.into_bytes(),
        _ => return Err(fail("this type is not supported as a parameter; cast the placeholder, e.g. ?::text")),
    })
}

fn text_like<T: ServerType>(ty: &T) -> bool {
    let name = ty.type_name();
    matches!(
        &*name,
        "TEXT" | "VARCHAR" | "BPCHAR" | "CHAR" | "NAME" | "UNKNOWN" | "XML"
    ) || name.eq_ignore_ascii_case("citext")
}

/// What a value means as text (how node-postgres would send it).
fn text_of<T: ServerType>(param: &Param, ty: &T, index: usize) -> DbResult<String> {
    Ok(match param {
        Param::Text(s) | Param::Json(s) => s.clone(),
        Param::Int(i) => i.to_string(),
        Param::Float(f) => f.to_string(),
        Param::Bool(b) => b.to_string(),
        Param::Timestamp(ms) => DateTime::<Utc>::from_timestamp_millis(*ms)
            .ok_or_else(|| refuse(param, ty, index, "out of range"))?
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string(),
        Param::Bytes(b) => {
            String::from_utf8(b.clone()).map_err(|_| refuse(param, ty, index, "not UTF-8"))?
        }
        Param::Null => String::new(),
    })
}

fn integer(param: &Param) -> Option<i64> {
    match param {
        Param::Int(i) => Some(*i),
        Param::Float(f) if f.fract() == 0.0 && f.abs() < 9.3e18 => Some(*f as i64),
        Param::Text(s) => s.trim().parse().ok(),
        Param::Bool(b) => Some(*b as i64),
        _ => None,
    }
}

fn float(param: &Param) -> Option<f64> {
    match param {
        Param::Int(i) => Some(*i as f64),
        Param::Float(f) => Some(*f),
        Param::Text(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn json_text(param: &Param) -> Option<String> {
    match param {
        Param::Json(s) => Some(s.clone()),
        // A string is JSON text (as with node-postgres); anything else is
        // turned into its JSON form.
        Param::Text(s) => serde_json::from_str::<serde_json::Value>(s)
            .ok()
            .map(|_| s.clone()),
        Param::Int(i) => Some(i.to_string()),
        Param::Float(f) => Some(serde_json::Value::from(*f).to_string()),
        Param::Bool(b) => Some(b.to_string()),
        Param::Timestamp(ms) => DateTime::<Utc>::from_timestamp_millis(*ms).map(|d| {
            serde_json::Value::from(d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()).to_string()
        }),
        _ => None,
    }
}

fn instant_ms(param: &Param) -> Option<i64> {
    match param {
        Param::Timestamp(ms) => Some(*ms),
        Param::Text(s) => parse_text_timestamp(s).map(|ms| ms as i64).or_else(|| {
            NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S%.f%#z")
                .ok()
                .map(|d| d.and_utc().timestamp_millis())
        }),
        _ => None,
    }
    .or_else(|| match param {
        Param::Text(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0)
            .map(|d| d.and_utc().timestamp_millis()),
        _ => None,
    })
}

/// A JS array (sent as JSON) into a one-dimensional PostgreSQL array.
fn encode_array<T: ServerType>(param: &Param, element: &T, index: usize) -> DbResult<Vec<u8>> {
    let items: Vec<Param> = match param {
        Param::Json(s) => match serde_json::from_str::<serde_json::Value>(s) {
            Ok(serde_json::Value::Array(items)) => items.into_iter().map(json_to_param).collect(),
            _ => {
                return Err(refuse(
                    param,
                    element,
                    index,
                    "an array parameter must be a JS array",
                ))
            }
        },
        _ => {
            return Err(refuse(
                param,
                element,
                index,
                "an array parameter must be a JS array",
            ))
        }
    };
    let oid = element
        .type_oid()
        .ok_or_else(|| refuse(param, element, index, "unknown element type"))?;
    let mut out = Vec::new();
    out.extend(1i32.to_be_bytes());
    out.extend((items.iter().any(|p| matches!(p, Param::Null)) as i32).to_be_bytes());
    out.extend(oid.to_be_bytes());
    out.extend((items.len() as i32).to_be_bytes());
    out.extend(1i32.to_be_bytes());
    for item in &items {
        match encode_bytes(item, element, index)? {
            None => out.extend((-1i32).to_be_bytes()),
            Some(b) => {
                out.extend((b.len() as i32).to_be_bytes());
                out.extend(b);
            }
        }
    }
    Ok(out)
}

fn json_to_param(v: serde_json::Value) -> Param {
    use serde_json::Value;
    match v {
        Value::Null => Param::Null,
        Value::Bool(b) => Param::Bool(b),
        Value::Number(n) => n
            .as_i64()
            .map(Param::Int)
            .unwrap_or_else(|| Param::Float(n.as_f64().unwrap_or(f64::NAN))),
        Value::String(s) => Param::Text(s),
        other => Param::Json(other.to_string()),
    }
}

/// Decimal text (`-123.4500`, `NaN`) → NUMERIC's binary form: base-10000
/// digit groups, the weight of the first group, sign and display scale.
pub fn encode_numeric(text: &str) -> Option<Vec<u8>> {
    let header = |ndigits: u16, weight: i16, sign: u16, dscale: u16| {
        let mut b = Vec::with_capacity(8 + 2 * ndigits as usize);
        b.extend(ndigits.to_be_bytes());
        b.extend(weight.to_be_bytes());
        b.extend(sign.to_be_bytes());
        b.extend(dscale.to_be_bytes());
        b
    };
    match text {
        "NaN" => return Some(header(0, 0, 0xC000, 0)),
        "Infinity" => return Some(header(0, 0, 0xD000, 0)),
        "-Infinity" => return Some(header(0, 0, 0xF000, 0)),
        _ => {}
    }
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (int_part, frac_part) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if int_part.is_empty() && frac_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int_part = int_part.trim_start_matches('0');
    // Pad so that both parts split into whole groups of four digits.
    let int_pad = (4 - int_part.len() % 4) % 4;
    let frac_pad = (4 - frac_part.len() % 4) % 4;
    let digits: String = "0".repeat(int_pad) + int_part + frac_part + &"0".repeat(frac_pad);
    let mut groups: Vec<u16> = digits
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).ok()?.parse().ok())
        .collect::<Option<_>>()?;
    let mut weight = ((int_part.len() + int_pad) / 4) as i64 - 1;
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    let sign = if negative && !groups.is_empty() {
        0x4000
    } else {
        0
    };
    let mut out = header(
        groups.len() as u16,
        i16::try_from(weight).ok()?,
        sign,
        u16::try_from(frac_part.len()).ok()?,
    );
    for g in groups {
        out.extend(g.to_be_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::numeric::pg_numeric_to_string;

    #[test]
    fn numeric_round_trips_through_the_wire_format() {
        for text in [
            "0",
            "1.50",
            "-0.0001",
            "12345678901234567890.1234567890",
            "10000",
            "0.00000123",
            "NaN",
            "7",
            "-42.000",
        ] {
            let wire = encode_numeric(text).unwrap();
            assert_eq!(pg_numeric_to_string(&wire).unwrap(), text, "{text}");
        }
        assert_eq!(
            pg_numeric_to_string(&encode_numeric("007.5").unwrap()).unwrap(),
            "7.5"
        );
        for bad in ["", ".", "1e5", "abc", "1.2.3", "--1"] {
            assert!(encode_numeric(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn values_follow_the_inferred_type() {
        let int4 = <i32 as sqlx::Type<Postgres>>::type_info();
        assert_eq!(
            encode(&Param::Text("5".into()), &int4, 0).unwrap().bytes,
            Some(5i32.to_be_bytes().to_vec())
        );
        assert!(encode(&Param::Float(1.5), &int4, 0).is_err());
        assert!(encode(&Param::Int(1 << 40), &int4, 0).is_err());
        let text = <String as sqlx::Type<Postgres>>::type_info();
        assert_eq!(
            encode(&Param::Int(5), &text, 0).unwrap().bytes,
            Some(b"5".to_vec())
        );
        let uuid = <sqlx::types::Uuid as sqlx::Type<Postgres>>::type_info();
        assert_eq!(
            encode(
                &Param::Text("00000000-0000-0000-0000-000000000001".into()),
                &uuid,
                0
            )
            .unwrap()
            .bytes
            .unwrap()
            .len(),
            16
        );
        let e = encode(&Param::Text("nope".into()), &uuid, 3).unwrap_err();
        assert!(e.message.contains("parameter 3"), "{}", e.message);
    }
}
