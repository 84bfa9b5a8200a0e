//! The trials table as an Arrow IPC stream, for Spark (a DataFrame) and Python (pyarrow, pandas).
//!
//! Columns: `id` u64, `state` utf8, `value` f64?, `error` utf8?, `started_ms` i64, `finished_ms` i64?,
//! `point` utf8 (JSON), `values` utf8 (JSON), then `param.<label>` f64? per label in the space's
//! order (the raw point; null when inactive) and `metric.<name>` f64? per metric name, sorted.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, Schema};

use crate::error::{Error, Result};
use crate::space::Space;
use crate::trial::Trial;

/// The trials of a study over `space` as one record batch in an Arrow IPC stream.
pub fn trials_arrow_ipc(space: &Space, trials: &[Trial]) -> Result<Vec<u8>> {
    let n = trials.len();
    let mut id = UInt64Builder::with_capacity(n);
    let mut state = StringBuilder::with_capacity(n, n * 8);
    let mut value = Float64Builder::with_capacity(n);
    let mut error = StringBuilder::new();
    let mut started = Int64Builder::with_capacity(n);
    let mut finished = Int64Builder::with_capacity(n);
    let mut point = StringBuilder::new();
    let mut values = StringBuilder::new();
    for t in trials {
        id.append_value(t.id);
        state.append_value(t.state.name());
        value.append_option(t.value);
        error.append_option(t.error.as_deref());
        started.append_value(t.started_ms);
        finished.append_option(t.finished_ms);
        point.append_value(t.point.to_json_value().to_string());
        values.append_value(t.values.to_string());
    }
    let mut fields = vec![
        Field::new("id", DataType::UInt64, false),
        Field::new("state", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
        Field::new("error", DataType::Utf8, true),
        Field::new("started_ms", DataType::Int64, false),
        Field::new("finished_ms", DataType::Int64, true),
        Field::new("point", DataType::Utf8, false),
        Field::new("values", DataType::Utf8, false),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(id.finish()),
        Arc::new(state.finish()),
        Arc::new(value.finish()),
        Arc::new(error.finish()),
        Arc::new(started.finish()),
        Arc::new(finished.finish()),
        Arc::new(point.finish()),
        Arc::new(values.finish()),
    ];
    for label in space.labels() {
        let mut column = Float64Builder::with_capacity(n);
        for t in trials {
            column.append_option(t.point.get(label).map(|v| v.as_f64()));
        }
        fields.push(Field::new(format!("param.{label}"), DataType::Float64, true));
        columns.push(Arc::new(column.finish()));
    }
    let metric_names: BTreeSet<&str> = trials.iter().flat_map(|t| t.metrics.keys().map(String::as_str)).collect();
    for name in metric_names {
        let mut column = Float64Builder::with_capacity(n);
        for t in trials {
            column.append_option(t.metrics.get(name).copied());
        }
        fields.push(Field::new(format!("metric.{name}"), DataType::Float64, true));
        columns.push(Arc::new(column.finish()));
    }
    let schema = Arc::new(Schema::new(fields));
    let arrow = |e: arrow_schema::ArrowError| Error::Internal(format!("arrow export of the trials table: {e}"));
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(arrow)?;
    let mut writer = StreamWriter::try_new(Vec::new(), &schema).map_err(arrow)?;
    writer.write(&batch).map_err(arrow)?;
    writer.into_inner().map_err(arrow)
}
