//! A compact, stable, human-readable text dump of a flat [`Circuit`]: one
//! line per element, then models, analyses, initial conditions, options,
//! control blocks and warnings. Used for snapshot tests and `memnet`'s
//! check output. File paths are shortened to their last component so the
//! text does not depend on where the netlist lives.

use std::fmt::Write;

use crate::circuit::{Analysis, Circuit, ElementKind, Loc, MemristorDialect, Source, Waveform};

fn short(loc: &Loc) -> String {
    let f = loc.file.rsplit(['/', '\\']).next().unwrap_or(&loc.file);
    format!("{f}:{}:{}", loc.line, loc.col)
}

/// Shortest round-trip text; exponent form for very small or large values.
fn num(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 || (1e-4..1e15).contains(&a) || !a.is_finite() {
        format!("{x}")
    } else {
        format!("{x:e}")
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or("-".to_string(), num)
}

fn source(s: &Source) -> String {
    let w = match &s.waveform {
        Waveform::Dc(_) => return format!("dc={}", num(s.dc)),
        Waveform::Pulse {
            v1,
            v2,
            td,
            tr,
            tf,
            pw,
            per,
            np,
        } => format!(
            "pulse(v1={} v2={} td={} tr={} tf={} pw={} per={} np={})",
            num(*v1),
            num(*v2),
            num(*td),
            opt(*tr),
            opt(*tf),
            opt(*pw),
            opt(*per),
            np.map_or("-".to_string(), |n| n.to_string())
        ),
        Waveform::Sin {
            vo,
            va,
            freq,
            td,
            theta,
            phase,
        } => format!(
            "sin(vo={} va={} freq={} td={} theta={} phase={})",
            num(*vo),
            num(*va),
            opt(*freq),
            num(*td),
            num(*theta),
            num(*phase)
        ),
        Waveform::Pwl {
            points,
            repeat_from,
            delay,
        } => {
            let pts: Vec<String> = points
                .iter()
                .map(|(t, v)| format!("{},{}", num(*t), num(*v)))
                .collect();
            format!(
                "pwl({} r={} td={})",
                pts.join(" "),
                opt(*repeat_from),
                num(*delay)
            )
        }
    };
    format!("dc={} {w}", num(s.dc))
}

/// The dump text (ends with a newline).
pub fn dump_circuit(c: &Circuit) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "title: {}", c.title);
    let _ = writeln!(s, "elements: {}", c.elements.len());
    for e in &c.elements {
        let what = match &e.kind {
            ElementKind::Resistor { resistance } => format!("r={}", num(*resistance)),
            ElementKind::Capacitor { capacitance, ic } => {
                format!("c={} ic={}", num(*capacitance), opt(*ic))
            }
            ElementKind::Inductor { inductance, ic } => {
                format!("l={} ic={}", num(*inductance), opt(*ic))
            }
            ElementKind::VoltageSource(src) | ElementKind::CurrentSource(src) => source(src),
            ElementKind::Vcvs { gain } => format!("gain={}", num(*gain)),
            ElementKind::Vccs { transconductance } => format!("gm={}", num(*transconductance)),
            ElementKind::Behavioral { expr } => format!("expr=`{expr}`"),
            ElementKind::ExprSource { value, .. }
            | ElementKind::ExprResistor { value }
            | ElementKind::ExprCapacitor { value } => {
                format!("value=`{value}`")
            }
            ElementKind::Memristor(m) => {
                let d = match &m.dialect {
                    MemristorDialect::Canonical => "canonical".to_string(),
                    MemristorDialect::UserSubckt { subckt } => format!("user:{subckt}"),
                    MemristorDialect::Xyce { model, level } => format!("xyce:{model}:level{level}"),
                    MemristorDialect::Xspice { model } => format!("xspice:{model}"),
                    MemristorDialect::Native { law, options } => {
                        let mut s = format!("native:{law}");
                        for (k, v) in options {
                            s.push_str(&format!(":{k}={v}"));
                        }
                        s
                    }
                    MemristorDialect::Body { body, ic } => {
                        let ic: Vec<String> = ic.iter().map(|v| opt(*v)).collect();
                        let mut s = format!(
                            "body:{} nodes[{}] ic[{}]",
                            body.subckt,
                            body.nodes.join(" "),
                            ic.join(" ")
                        );
                        for b in &body.elements {
                            let nodes: Vec<&str> = b
                                .nodes
                                .iter()
                                .map(|&k| body.nodes[k as usize].as_str())
                                .collect();
                            let what = match &b.kind {
                                ElementKind::Resistor { resistance } => {
                                    format!("r={}", num(*resistance))
                                }
                                ElementKind::Capacitor { capacitance, .. } => {
                                    format!("c={}", num(*capacitance))
                                }
                                ElementKind::VoltageSource(src)
                                | ElementKind::CurrentSource(src) => source(src),
                                ElementKind::Vcvs { gain } => format!("gain={}", num(*gain)),
                                ElementKind::Vccs { transconductance } => {
                                    format!("gm={}", num(*transconductance))
                                }
                                ElementKind::ExprSource { value, .. }
                                | ElementKind::ExprResistor { value } => format!("value=`{value}`"),
                                k => k.name().to_string(),
                            };
                            s.push_str(&format!(
                                "\n    | {} {} [{}] {what}",
                                b.name,
                                b.kind.name(),
                                nodes.join(" ")
                            ));
                        }
                        s
                    }
                };
                let law = m.law.map_or("law=none".to_string(), |l| {
                    format!(
                        "ron={} roff={} w0={} alpha={} beta={}",
                        num(l.ron),
                        num(l.roff),
                        num(l.w0),
                        num(l.alpha),
                        num(l.beta)
                    )
                });
                let ps: Vec<String> = m
                    .params
                    .iter()
                    .map(|(k, v)| format!("{k}={}", num(*v)))
                    .collect();
                format!("{d} {law} params[{}]", ps.join(" "))
            }
            ElementKind::Unsupported { what, text } => format!("what={what} text=`{text}`"),
        };
        let _ = writeln!(
            s,
            "  {} {} [{}] {} @{}",
            e.name,
            e.kind_name(),
            e.nodes.join(" "),
            what,
            short(&e.loc)
        );
    }
    if !c.models.is_empty() {
        let _ = writeln!(s, "models:");
        for m in c.models.values() {
            let ps: Vec<String> = m
                .params
                .iter()
                .map(|(k, v)| format!("{k}={}", num(*v)))
                .collect();
            let _ = writeln!(
                s,
                "  {} {} [{}] @{}",
                m.name,
                m.kind,
                ps.join(" "),
                short(&m.loc)
            );
        }
    }
    if !c.analyses.is_empty() {
        let _ = writeln!(s, "analyses:");
        for a in &c.analyses {
            let line = match a {
                Analysis::Tran {
                    tstep,
                    tstop,
                    tstart,
                    tmax,
                    uic,
                    loc,
                } => format!(
                    "tran tstep={} tstop={} tstart={} tmax={} uic={uic} @{}",
                    num(*tstep),
                    num(*tstop),
                    num(*tstart),
                    opt(*tmax),
                    short(loc)
                ),
                Analysis::Op { loc } => format!("op @{}", short(loc)),
                Analysis::Dc { text, loc } => format!("dc `{text}` @{}", short(loc)),
                Analysis::Ac { text, loc } => format!("ac `{text}` @{}", short(loc)),
            };
            let _ = writeln!(s, "  {line}");
        }
    }
    if !c.initial_conditions.is_empty() {
        let _ = writeln!(s, "ic:");
        for (n, v) in &c.initial_conditions {
            let _ = writeln!(s, "  v({n})={}", num(*v));
        }
    }
    if !c.options.is_empty() {
        let _ = writeln!(s, "options:");
        for (k, v) in &c.options {
            let _ = writeln!(s, "  {k}={v}");
        }
    }
    if !c.outputs.is_empty() {
        let _ = writeln!(s, "outputs:");
        for o in &c.outputs {
            let analysis = o
                .analysis
                .as_deref()
                .map(|a| format!(" {a}"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  .{}{analysis} {} @{}",
                o.card,
                o.items.join(" "),
                short(&o.loc)
            );
        }
    }
    for b in &c.control_blocks {
        let _ = writeln!(s, "control:");
        for l in b.lines() {
            let _ = writeln!(s, "  | {l}");
        }
    }
    if !c.warnings.is_empty() {
        let _ = writeln!(s, "warnings:");
        for w in &c.warnings {
            let _ = writeln!(s, "  {}: {}", short(&w.loc), w.message);
        }
    }
    s
}
