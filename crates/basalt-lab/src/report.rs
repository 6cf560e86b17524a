//! What every lab report does alike: `report.json` (everything measured), `report.md` (its tables
//! and what they show) and its plots, written into one directory and read back for `--replot`.

use crate::plot::Chart;
use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;

/// A lab report: its data, its plots and its Markdown.
pub trait Report: Serialize + DeserializeOwned {
    /// The experiment's name, as in "not a scaling report".
    const EXPERIMENT: &'static str;

    /// Its plots, each with the file stem it is written under.
    fn charts(&self) -> Vec<(&'static str, Chart<'static>)>;

    /// report.md, given the plots it shows.
    fn markdown(&self, charts: &[(&str, Chart<'_>)]) -> String;

    /// Reads the report a run wrote into `dir`.
    fn read(dir: &Path) -> Result<Self> {
        let path = dir.join("report.json");
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a {} report", path.display(), Self::EXPERIMENT))
    }

    /// Writes report.json, report.md and the plots into `dir`.
    fn write(&self, dir: &Path) -> Result<()> {
        std::fs::write(
            dir.join("report.json"),
            serde_json::to_string_pretty(self)? + "\n",
        )?;
        let charts = self.charts();
        for (stem, chart) in &charts {
            chart.write(dir, stem)?;
        }
        std::fs::write(dir.join("report.md"), self.markdown(&charts))?;
        Ok(())
    }
}
