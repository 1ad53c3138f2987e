//! Renderers of trace files: the text narrative, the SVG sequence diagram, Mermaid, ShiViz, the HTML report, the
//! report folder that `check --report` writes, `check --junit`'s XML, and `bench --plot`'s charts.
//!
//! Renderers read trace files only (docs/results.md, "Trace files"): a trace is replayed in the model
//! its embedded scenario names and turned into a [`timeline::TimelineData`], which every diagram
//! renderer draws without knowing the protocol. So a trace from any run, or from a colleague's
//! machine, renders the same, and the same trace renders byte for byte the same.

pub mod html;
pub mod junit;
pub mod mermaid;
pub mod plot;
pub mod shiviz;
pub mod site;
pub mod svg;
pub mod text;
pub mod timeline;

use std::path::Path;

use crate::registry::{self, ModelVisitor};
use crate::search::Checkable;
use crate::trace::{Trace, TraceError};
use timeline::TimelineData;

struct Extract<'a> {
    trace: &'a Trace,
    file: &'a Path,
}

impl ModelVisitor for Extract<'_> {
    type Output = Result<TimelineData, TraceError>;

    fn visit<M: Checkable + Send + 'static>(self, model: M) -> Self::Output
    where
        M::State: 'static,
        M::Action: 'static,
    {
        timeline::extract(&model, self.trace, self.file)
    }
}

/// Read the trace file `file` and build its timeline. The error names the file.
pub fn load(file: &Path) -> Result<(Trace, TimelineData), String> {
    let trace = Trace::load(file).map_err(|err| err.to_string())?;
    let timeline = registry::with_model(
        &trace.scenario,
        Extract {
            trace: &trace,
            file,
        },
    )
    .map_err(|err| format!("{}: scenario: {err}", file.display()))?
    .map_err(|err| err.to_string())?;
    Ok((trace, timeline))
}
