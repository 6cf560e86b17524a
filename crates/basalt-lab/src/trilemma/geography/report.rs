//! The geographic points' part of the trilemma report: a chart, a section and relations.

use super::{GeoPoint, JITTER, REGIONS, SOURCE, SPREADS};
use crate::plot::{Chart, Series};
use crate::scaling::Relation;

/// The chart of finality against validator count, a line a spread.
pub fn chart(points: &[GeoPoint]) -> Chart<'static> {
    Chart {
        title:
            "Finality against validator count and spread (simulated network, measured round trips)",
        x: "validators",
        y: "ms from block timestamp to finality (median validator)",
        series: SPREADS
            .iter()
            .map(|s| Series {
                name: s.name.into(),
                points: points
                    .iter()
                    .filter(|p| p.spec.spread == s.name)
                    .filter_map(|p| p.finality_ms.map(|f| (p.spec.validators as f64, f)))
                    .collect(),
            })
            .filter(|s| !s.points.is_empty())
            .collect(),
        log_x: true,
        log_y: false,
    }
}

/// The report's section on the geographic points.
pub fn markdown(points: &[GeoPoint], seconds: f64) -> String {
    if points.is_empty() {
        return String::new();
    }
    let mut md = format!(
        "\n## Geography\n\nThe same validator code on commonware's deterministic runtime and \
         simulated network, in simulated time: every link between two validators is delayed by \
         half the median round trip between their regions, with {:.0}% jitter, and carries any \
         number of bytes at once (the messages here are a few KB). Round trips: {SOURCE}. \
         Validators are dealt to their spread's regions in turn. {seconds} simulated seconds a \
         point after the first block; finality is the median over validators of each one's mean \
         time from a block's timestamp to its finalization there.\n\n| spread | regions |\n|---|---|\n",
        JITTER * 100.0
    );
    for s in SPREADS {
        let names: Vec<&str> = s.regions.iter().map(|&r| REGIONS[r]).collect();
        md += &format!("| {} | {} |\n", s.name, names.join(", "));
    }
    md += "\n| validators | spread | mean / max RTT ms | blocks/s | tx/s | finality ms | p90 ms | \
           same blocks | real s |\n|---|---|---|---|---|---|---|---|---|\n";
    let opt = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.0}"));
    for p in points {
        md += &format!(
            "| {} | {} | {:.0} / {:.0} | {:.1} | {:.0} | {} | {} | {} | {:.0} |\n",
            p.spec.validators,
            p.spec.spread,
            p.mean_rtt_ms,
            p.max_rtt_ms,
            p.blocks_per_s,
            p.tps,
            opt(p.finality_ms),
            opt(p.finality_p90_ms),
            if p.agreed { "yes" } else { "**no**" },
            p.wall_s
        );
    }
    md
}

/// What the geographic points must show.
pub fn relations(points: &[GeoPoint]) -> Vec<Relation> {
    if points.is_empty() {
        return Vec::new();
    }
    let split: Vec<String> = points
        .iter()
        .filter(|p| !p.agreed)
        .map(|p| p.spec.label())
        .collect();
    let mut out = vec![Relation {
        claim:
            "every validator finalized the same block at every height, at every geographic point"
                .into(),
        holds: split.is_empty(),
        by_construction: true,
        detail: match split.is_empty() {
            true => format!("{} points", points.len()),
            false => format!("validators disagreed at: {}", split.join("; ")),
        },
    }];
    let finality = |n: usize, spread: &str| {
        points
            .iter()
            .find(|p| p.spec.validators == n && p.spec.spread == spread)
            .and_then(|p| p.finality_ms)
    };
    let (near, far) = (SPREADS[0].name, SPREADS[SPREADS.len() - 1].name);
    let mut counts: Vec<usize> = points.iter().map(|p| p.spec.validators).collect();
    counts.sort_unstable();
    counts.dedup();
    let pairs: Vec<(usize, f64, f64)> = counts
        .into_iter()
        .filter_map(|n| Some((n, finality(n, near)?, finality(n, far)?)))
        .collect();
    if !pairs.is_empty() {
        out.push(Relation {
            claim: format!("a {far} chain finalizes later than one in {near}, at every count"),
            holds: pairs.iter().all(|(_, a, b)| b > a),
            by_construction: false,
            detail: pairs
                .iter()
                .map(|(n, a, b)| format!("{n} validators: {a:.0} ms against {b:.0} ms"))
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    out
}
