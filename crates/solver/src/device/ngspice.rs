//! The laws smooth enough for ngspice, written as behavioural subcircuits
//! for `memnet export --to ngspice` (docs/device-laws.md, "Against
//! ngspice"; the structure of `fixtures/spice/memristor.lib`): the state on
//! a 1 F capacitor at internal node `w` (so ngspice prints it as
//! `v(<instance>.w)`, in the law's own variable), a B-source charging it
//! with the state rate, and a B-source carrying the device current.
//!
//! Which laws: HP with every window, TEAM/VTEAM with the Kvatinsky window,
//! Yakopcic (with a 1e12 ohm leak across the port: at x = 0 the device
//! conducts nothing and ngspice's matrix is singular at the `uic` start)
//! and MMSS. Measured against memnet's references, ngspice 39 follows
//! Biolek, Yakopcic, MMSS and TEAM with moderate exponents closely, and
//! the x-only windows only while the states stay inside (0, 1). Xyce's
//! levels 2 and 4, the XSPICE threshold law and non-linear drift are not
//! written: their kinks, tables or dynamic range are what ngspice's step
//! control fails on.
//!
//! The parameters are the law's own, resolved with its defaults by the
//! law's module (so the deck and memnet integrate the same numbers).

use memnet_spice::export::{NativeExport, NativeInstance};
use memnet_spice::{Memristor, MemristorDialect};

use super::Laws;
use super::hp::Window;
use super::team::{Control, IvRelation};

/// [`NativeExport`] for memnet's laws (see the module doc).
#[derive(Clone, Copy, Debug, Default)]
pub struct NgspiceBodies;

impl NativeExport for NgspiceBodies {
    fn instance(&self, m: &Memristor) -> Result<NativeInstance, String> {
        let MemristorDialect::Native { law, options } = &m.dialect else {
            return Err("not one of memnet's native laws".into());
        };
        let spec = memnet_graph::LawSpec {
            law: law.clone(),
            options: options.clone(),
            params: m.params.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            tables: m.tables.clone(),
            loc: None,
            body: None,
        };
        let mut laws = Laws::default();
        laws.push_spec(&spec)?;
        if let Some(d) = laws.hp.devices.first() {
            // The window's p and j are `pw`, `jw`: `p` names a pin.
            let (name, window, p, j) = match d.window {
                Window::None => ("memnet_hp_none", "1", 1.0, 1.0),
                Window::Joglekar { p } => (
                    "memnet_hp_joglekar",
                    "(1-pow((2*V(w)-1)*(2*V(w)-1),pw))",
                    p,
                    1.0,
                ),
                // stp(-i) = 1 for i <= 0: 1 - u(v), u the unit step.
                Window::Biolek { p } => (
                    "memnet_hp_biolek",
                    "(1-pow((V(w)-1+u(V(p,n)))*(V(w)-1+u(V(p,n))),pw))",
                    p,
                    1.0,
                ),
                Window::Prodromakis { p, j } => (
                    "memnet_hp_prodromakis",
                    "(jw*(1-pow((V(w)-0.5)*(V(w)-0.5)+0.75,pw)))",
                    p,
                    j,
                ),
            };
            let r = "(ron*V(w)+roff*(1-V(w)))";
            return Ok(NativeInstance {
                subckt: name.into(),
                body: format!(
                    ".subckt {name} p n PARAMS: ron=100 roff=16000 k=1e4 x0=0.5 pw=1 jw=1\n\
                     Cw w 0 1 IC={{x0}}\n\
                     Bw 0 w I={{k*V(p,n)/{r}*{window}}}\n\
                     Bm p n I={{V(p,n)/{r}}}\n\
                     .ends {name}\n"
                ),
                params: vec![
                    ("ron".into(), d.ron),
                    ("roff".into(), d.roff),
                    ("k".into(), d.k),
                    ("x0".into(), d.x0),
                    ("pw".into(), p),
                    ("jw".into(), j),
                ],
            });
        }
        if let Some(d) = laws.team.devices.first() {
            let u = match d.control {
                Control::Current => "V(p,n)/R",
                Control::Voltage => "V(p,n)",
            };
            let r = match d.iv {
                IvRelation::Linear => "(ron+(roff-ron)*(V(w)-xon)/(xoff-xon))".to_string(),
                IvRelation::Exponential => {
                    "(ron*exp(ln(roff/ron)*(V(w)-xon)/(xoff-xon)))".to_string()
                }
            };
            let (f_off, f_on) = if d.kvatinsky {
                (
                    "exp(-exp((V(w)-aoff)/wc))".to_string(),
                    "exp(-exp(-(V(w)-aon)/wc))".to_string(),
                )
            } else {
                ("1".to_string(), "1".to_string())
            };
            let u = u.replace('R', &r);
            let name = format!(
                "memnet_team_{}_{}_{}",
                if d.control == Control::Current {
                    "i"
                } else {
                    "v"
                },
                if d.iv == IvRelation::Linear {
                    "lin"
                } else {
                    "exp"
                },
                if d.kvatinsky { "kvatinsky" } else { "nowindow" }
            );
            let rate = format!(
                "({u}>=uoff ? koff*pow(max({u}/uoff-1,0),aoff)*{f_off} : \
                 ({u}<=uon ? kon*pow(max({u}/uon-1,0),aon)*{f_on} : 0))"
            );
            let body = format!(
                ".subckt {name} p n PARAMS: ron=50 roff=1000 kon=-1 koff=1 aon=3 aoff=3 \
                 uon=-1 uoff=1 xon=0 xoff=1 aonw=0 aoffw=1 wc=1 x0=0\n\
                 Cw w 0 1 IC={{x0}}\n\
                 Bw 0 w I={{{rate}}}\n\
                 Bm p n I={{V(p,n)/{r}}}\n\
                 .ends {name}\n"
            )
            // The window edges share names with the exponents otherwise.
            .replace("-aoff)/wc", "-aoffw)/wc")
            .replace("-aon)/wc", "-aonw)/wc");
            return Ok(NativeInstance {
                subckt: name,
                body,
                params: vec![
                    ("ron".into(), d.ron),
                    ("roff".into(), d.roff),
                    ("kon".into(), d.k_on),
                    ("koff".into(), d.k_off),
                    ("aon".into(), d.alpha_on),
                    ("aoff".into(), d.alpha_off),
                    ("uon".into(), d.u_on),
                    ("uoff".into(), d.u_off),
                    ("xon".into(), d.x_on),
                    ("xoff".into(), d.x_off),
                    ("aonw".into(), d.a_on),
                    ("aoffw".into(), d.a_off),
                    ("wc".into(), d.w_c),
                    ("x0".into(), d.x0),
                ],
            });
        }
        if let Some(d) = laws.yakopcic.devices.first() {
            let name = "memnet_yakopcic";
            let v = "V(p,n)";
            let g = format!(
                "({v}>vp ? ap*(exp({v})-exp(vp)) : ({v}<-vn ? -an*(exp(-{v})-exp(vn)) : 0))"
            );
            let window = format!(
                "(eta*{v}>0 ? (V(w)>xp ? (1-V(w))/(1-xp)*exp(-alphap*(V(w)-xp)) : 1) : \
                 (V(w)<=1-xn ? V(w)/(1-xn)*exp(alphan*(V(w)+xn-1)) : 1))"
            );
            let body = format!(
                ".subckt {name} p n PARAMS: a1=1 a2=1 b=1 vp=0.01 vn=0.01 ap=1 an=1 xp=0.5 \
                 xn=0.5 alphap=1 alphan=1 eta=1 x0=0\n\
                 Cw w 0 1 IC={{x0}}\n\
                 Bw 0 w I={{eta*{g}*{window}}}\n\
                 Bm p n I={{({v}>=0 ? a1 : a2)*V(w)*sinh(b*{v})}}\n\
                 Rleak p n 1e12\n\
                 .ends {name}\n"
            );
            return Ok(NativeInstance {
                subckt: name.into(),
                body,
                params: vec![
                    ("a1".into(), d.a1),
                    ("a2".into(), d.a2),
                    ("b".into(), d.b),
                    ("vp".into(), d.vp),
                    ("vn".into(), d.vn),
                    ("ap".into(), d.ap),
                    ("an".into(), d.an),
                    ("xp".into(), d.xp),
                    ("xn".into(), d.xn),
                    ("alphap".into(), d.alphap),
                    ("alphan".into(), d.alphan),
                    ("eta".into(), d.eta),
                    ("x0".into(), d.x0),
                ],
            });
        }
        if let Some(d) = laws.mmss.devices.first() {
            let name = "memnet_mmss";
            let v = "V(p,n)";
            let body = format!(
                ".subckt {name} p n PARAMS: ron=1 roff=1 von=0 voff=0 tau=1 vt=0.025 x0=0 \
                 phi=1 sfa=0 sfb=0 sra=0 srb=0\n\
                 Cw w 0 1 IC={{x0}}\n\
                 Bw 0 w I={{((1-V(w))/(1+exp(-({v}-von)/vt)) - V(w)/(1+exp(({v}+voff)/vt)))/tau}}\n\
                 Bm p n I={{phi*{v}*(V(w)/ron+(1-V(w))/roff) + (1-phi)*(sfa*(exp(sfb*{v})-1) \
                 - sra*(exp(-srb*{v})-1))}}\n\
                 .ends {name}\n"
            );
            return Ok(NativeInstance {
                subckt: name.into(),
                body,
                params: vec![
                    ("ron".into(), d.ron),
                    ("roff".into(), d.roff),
                    ("von".into(), d.von),
                    ("voff".into(), d.voff),
                    ("tau".into(), d.tau),
                    ("vt".into(), d.vt),
                    ("x0".into(), d.x0),
                    ("phi".into(), d.phi),
                    ("sfa".into(), d.sfa),
                    ("sfb".into(), d.sfb),
                    ("sra".into(), d.sra),
                    ("srb".into(), d.srb),
                ],
            });
        }
        Err(format!(
            "law `{law}` is not written for ngspice: only hp, team, vteam, yakopcic and mmss \
             are smooth enough for its step control (docs/device-laws.md)"
        ))
    }
}
