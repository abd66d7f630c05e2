//! The analysis of a deck that has no `.tran` card but runs one from its
//! `.control` block, as ngspice's own memristor examples do:
//!
//! ```text
//! .csparam stime=10n
//! .control
//! let deltime = stime/100
//! tran $&deltime $&stime uic
//! .endc
//! ```
//!
//! The first `tran` command of the first block that has one becomes the
//! run's analysis. Its fields may be numbers, `$&vector` and `$variable`
//! references to the values that `let`, `set` and `.csparam` define in the
//! lines before it; `let` evaluates SPICE expressions of them.

use super::*;
use crate::expr::{apply_binary, builtin, constant, parse_expr};
use crate::number::parse_number;

/// Evaluates `e` with the control block's values `env`.
fn eval_env(e: &Expr, env: &HashMap<String, f64>) -> Result<f64, String> {
    Ok(match e {
        Expr::Num(v) => *v,
        Expr::Var(n) => match env.get(&**n) {
            Some(v) => *v,
            None => constant(n).ok_or_else(|| format!("`{n}` has no value here"))?,
        },
        Expr::Unary(UnOp::Neg, a) => -eval_env(a, env)?,
        Expr::Unary(UnOp::Not, a) => f64::from(u8::from(eval_env(a, env)? == 0.0)),
        Expr::Binary(op, a, b) => apply_binary(*op, eval_env(a, env)?, eval_env(b, env)?),
        Expr::Cond(c) => {
            if eval_env(&c[0], env)? != 0.0 {
                eval_env(&c[1], env)?
            } else {
                eval_env(&c[2], env)?
            }
        }
        Expr::Call(c) => {
            let mut args = Vec::with_capacity(c.1.len());
            for a in &c.1 {
                args.push(eval_env(a, env)?);
            }
            match builtin(&c.0, &args) {
                Some(r) => r?,
                None => return Err(format!("unknown function '{}'", c.0)),
            }
        }
    })
}

impl Elab<'_, '_> {
    /// Adds the `tran` of the `.control` blocks as the analysis when the
    /// deck has no `.tran` card.
    pub(super) fn control_tran(
        &mut self,
        blocks: &[String],
        locs: &[Loc],
        csparams: &[ParamDef],
    ) -> Result<(), Diagnostic> {
        if self
            .circuit
            .analyses
            .iter()
            .any(|a| matches!(a, Analysis::Tran { .. }))
        {
            return Ok(());
        }
        let mut env: HashMap<String, f64> = HashMap::new();
        for p in csparams {
            let v = self.value(&p.val, &p.loc.file, 0)?;
            env.insert(p.name.clone(), v);
        }
        for (block, start) in blocks.iter().zip(locs) {
            for (k, line) in block.lines().enumerate() {
                let loc = Loc::new(start.file.clone(), start.line + 1 + k as u32, 1);
                let text = line.trim();
                let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
                let fail = |me: &Self, m: String| me.diag(&loc, format!("`.control` line: {m}"));
                match word.to_ascii_lowercase().as_str() {
                    "let" | "set" => {
                        let Some((name, value)) = rest.split_once('=') else {
                            continue;
                        };
                        let name = name.trim().to_ascii_lowercase();
                        let value = value.trim().replace("$&", "");
                        let value = value.trim_matches('"');
                        match parse_expr(value)
                            .map_err(|e| e.message)
                            .and_then(|e| eval_env(&e, &env))
                        {
                            Ok(v) => {
                                env.insert(name, v);
                            }
                            // `set` also holds words (`set xbrushwidth=2`
                            // is a number, `set color0=white` is not).
                            Err(_) if word.eq_ignore_ascii_case("set") => {}
                            Err(m) => return Err(fail(self, format!("let {name}: {m}"))),
                        }
                    }
                    "tran" => {
                        let mut xs = Vec::new();
                        let mut uic = false;
                        for f in rest.split_whitespace() {
                            if f.eq_ignore_ascii_case("uic") {
                                uic = true;
                                continue;
                            }
                            let key = f.strip_prefix("$&").or_else(|| f.strip_prefix('$'));
                            let v = match key {
                                Some(n) => env.get(&n.to_ascii_lowercase()).copied().ok_or_else(|| {
                                    fail(self, format!("tran: `{f}` has no value (define it with let, set or .csparam before the tran line)"))
                                })?,
                                None => parse_number(f).ok_or_else(|| {
                                    fail(self, format!("tran: `{f}` is not a number"))
                                })?,
                            };
                            xs.push(v);
                        }
                        let (tstep, tstop, tstart, tmax) =
                            tran_fields(&xs).map_err(|m| fail(self, format!("tran{m}")))?;
                        self.warn(
                            "analysis from .control",
                            &loc,
                            format!(
                                "no .tran card: the analysis is this .control line's tran \
                                 (step {tstep:e}, stop {tstop:e}{})",
                                if uic { ", uic" } else { "" }
                            ),
                        );
                        self.circuit.analyses.push(Analysis::Tran {
                            tstep,
                            tstop,
                            tstart,
                            tmax,
                            uic,
                            loc,
                        });
                        return Ok(());
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}
