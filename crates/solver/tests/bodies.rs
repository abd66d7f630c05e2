//! Users' memristor subcircuits compiled into the engine (issue 11;
//! docs/subcircuit-bodies.md): a body written the way LTspice and ngspice
//! users write one runs as a device and agrees with memnet's native law of
//! the same model, in a network.

use memnet_graph::Network;
use memnet_solver::{Method, SimOptions, simulate};

fn run(deck: &str, t_end: f64) -> Vec<(f64, Vec<f64>)> {
    let c = memnet_spice::import_str(deck, "deck.cir", &Default::default())
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let net = Network::from_circuit(&c).unwrap_or_else(|e| panic!("{}", e.render()));
    let opts = SimOptions {
        t_end,
        method: Method::Dopri5,
        rtol: 1e-12,
        atol: 1e-14,
        sample_dt: Some(t_end / 200.0),
        ..SimOptions::default()
    };
    let mut samples = Vec::new();
    simulate(&net, &opts, &mut samples, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    samples
}

/// The Biolek model as LTspice users write it (state capacitor Cx charged
/// by Gx, the port an E source whose value reads the state; the library's
/// window function, its step function and a `.func` defined after use)
/// against memnet's HP law with Biolek's window, in series with a resistor
/// and driven by a sine: the states agree to the integration tolerance.
#[test]
fn ltspice_biolek_body_agrees_with_the_native_hp_law() {
    let body = "\
.func f(x,p)={1-(2*x-1)**(2*p)}
.func stpw(x) = {stp(x)}
.SUBCKT memristor_biolek plus minus PARAMS: Ron=100 Roff=16k Rinit=11k D=10n uv=10f p=10
.param x0={(Roff-Rinit)/(Roff-Ron)}
Gx 0 x value={I(Emem)*uv*Ron/D**2*fw(V(x),I(Emem),p)}
Cx x 0 1 IC={x0}
Raux x 0 1e30
Emem plus aux value={-I(Emem)*V(x)*(Roff-Ron)}
Roff aux minus {Roff}
.func fw(x,i,p)={1-(x-stpw(-i))**(2*p)}
.ENDS memristor_biolek
";
    let user = format!(
        "biolek body\n{body}V1 in 0 SIN(0 1.2 1)\nXmem in mid memristor_biolek p=2\nR1 mid 0 1k\n.end\n"
    );
    let native = "biolek native\n\
        .model hpb memristor law=hp window=biolek ron=100 roff=16k rinit=11k d=10n uv=10f p=2\n\
        V1 in 0 SIN(0 1.2 1)\n\
        ymemristor m1 in mid hpb\n\
        R1 mid 0 1k\n.end\n";
    let a = run(&user, 2.0);
    let b = run(native, 2.0);
    assert_eq!(a.len(), b.len());
    let mut worst = 0.0f64;
    let mut moved = 0.0f64;
    for ((ta, xa), (tb, xb)) in a.iter().zip(&b) {
        assert!((ta - tb).abs() < 1e-12);
        worst = worst.max((xa[0] - xb[0]).abs());
        moved = moved.max((xa[0] - a[0].1[0]).abs());
    }
    // The state moves by a sizeable fraction of [0, 1]; the two agree to
    // about the integration tolerance (rtol 1e-12) times the steps taken.
    assert!(moved > 0.05, "the drive moves the state ({moved})");
    assert!(worst < 1e-8, "body vs native law: max |dx| = {worst}");
}

/// Mutated body decks (bytes flipped, inserted, deleted; fixed seed) give
/// a circuit, a network and laws, or located errors; compiling and
/// evaluating a body never panics (the body compiler's part of the fuzz
/// target, run deterministically).
#[test]
fn mutated_bodies_never_panic() {
    use memnet_solver::DeviceLaw;
    let seed_deck = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/spice/ltspice_biolek.cir"
    ))
    .expect("fixture");
    let threshold = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/spice/memristor_threshold_body.cir"
    ))
    .expect("fixture");
    // LTspice's integral form of a charge-controlled body.
    let integral = "sdt body\n.subckt hps p n PARAMS: Ron=100 Roff=16k k=1e8\n\
        Vs p a 0\nRm a n R={limit(Roff - k*sdt(I(Vs), 1u), Ron, Roff)}\n.ends hps\n\
        V1 in 0 SIN(0 1 1)\nX1 in mid hps\nR1 mid 0 1k\n.tran 0.01 1\n.end\n";
    let diode = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/ngspice/user/diode_selector.cir"
    ))
    .expect("fixture");
    // This session's forms: HSPICE's gnd!, cur= and I(Gm); static diodes
    // and selectors; POLY(2); an E buffer chain.
    let hspice = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/ngspice/user/hspice/laiho_biolek.cir"
    ))
    .expect("fixture");
    let selectors = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/ngspice/user/diode_top.cir"
    ))
    .expect("fixture");
    let cjo = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/ngspice/user/diode_cjo.cir"
    ))
    .expect("fixture");
    let poly = "poly\n.subckt m p n\nVb b 0 0.25\nEk k 0 POLY(2) (p,n) (b,0) 1 2 3 4 5 6\n\
        E1 n1 0 value={V(k)}\nGx 0 x value={V(n1)}\nCx x 0 1\nRk k 0 1e6\nRm p n 1k\n.ends m\n\
        V1 a 0 DC 0.5\nXm a 0 m\n.end\n";
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut bodies, mut total) = (0usize, 0usize);
    for src in [
        seed_deck.as_bytes(),
        threshold.as_bytes(),
        integral.as_bytes(),
        diode.as_bytes(),
        hspice.as_bytes(),
        selectors.as_bytes(),
        poly.as_bytes(),
        cjo.as_bytes(),
    ] {
        for _ in 0..400 {
            let mut b = src.to_vec();
            for _ in 0..1 + next() % 3 {
                let i = (next() as usize) % b.len();
                match next() % 3 {
                    0 => b[i] = b"(){}*+-/,=01xvVI \n"[(next() % 18) as usize],
                    1 => b.insert(i, b"(){}*+-/,=.9eE"[(next() % 14) as usize]),
                    _ => {
                        b.remove(i);
                    }
                }
            }
            total += 1;
            let text = String::from_utf8_lossy(&b);
            let r = std::panic::catch_unwind(|| {
                let Ok(c) = memnet_spice::import_str(&text, "m.cir", &Default::default()) else {
                    return false;
                };
                let Ok(net) = Network::from_circuit(&c) else {
                    return false;
                };
                let Ok((laws, _)) = memnet_solver::device::Laws::from_network(&net) else {
                    return false;
                };
                let mut any = false;
                for d in 0..laws.len() {
                    any |= laws.law_of(d) == "body";
                    let x = laws.initial_state(d);
                    for v in [0.0, 0.7, -3.0] {
                        let _ = laws.current(d, x, v);
                        let _ = laws.conductance(d, x, v);
                        let _ = laws.state_rate(d, x, v, 0.0);
                        let mut memo = vec![0.0; laws.memo_len(d)];
                        let _ = laws.conductance_keep(d, x, 0.0, &mut memo);
                        let _ = laws.state_rate_kept(d, x, v, 0.0, &memo);
                    }
                }
                any
            });
            match r {
                Ok(compiled) => bodies += usize::from(compiled),
                Err(_) => panic!("panicked on:\n{text}"),
            }
        }
    }
    // Both outcomes are exercised.
    assert!(
        bodies > total / 10 && bodies < total,
        "{bodies} of {total} compiled"
    );
}

/// The `TE BE XSV` shape (Yakopcic's and Knowm's models): a third pin on
/// the state node, left open, is an internal node of the body, and the
/// device is the same as with two pins. Tying that pin to anything is an
/// error that says so.
#[test]
fn an_open_state_pin_is_an_internal_node() {
    let def = |pins: &str, state: &str| {
        format!(
            ".subckt mem {pins} PARAMS: ron=100 roff=16000 w0=0.3 beta=0.05\n\
             C1 {state} 0 1 IC={{w0}}\n\
             B1 0 {state} I={{-ron*V(p,n)/(ron+(roff-ron)*V({state}))/beta}}\n\
             B2 p n I={{V(p,n)/(ron+(roff-ron)*V({state}))}}\n.ends mem\n"
        )
    };
    let three = format!(
        "three pins\n{}V1 a 0 SIN(0 1 1)\nX1 a b s mem\nR1 b 0 1k\n.end\n",
        def("p n xsv", "xsv")
    );
    let two = format!(
        "two pins\n{}V1 a 0 SIN(0 1 1)\nX1 a b mem\nR1 b 0 1k\n.end\n",
        def("p n", "w")
    );
    let (a, b) = (run(&three, 1.0), run(&two, 1.0));
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x.1[0] - y.1[0]).abs())
        .fold(0.0, f64::max);
    assert!(worst < 1e-12, "three pins vs two: {worst}");
    let moved = a.iter().map(|x| (x.1[0] - 0.3).abs()).fold(0.0, f64::max);
    assert!(moved > 1e-2, "the state moves ({moved})");

    let tied = three.replace("R1 b 0 1k", "R1 b 0 1k\nR2 s 0 1meg");
    let c = memnet_spice::import_str(&tied, "t.cir", &Default::default()).unwrap();
    let Err(e) = Network::from_circuit(&c) else {
        panic!("a tied state pin is refused");
    };
    assert!(e.render().contains("left open"), "{}", e.render());
}

/// LTspice's `sdt()` holds the state as a capacitor would: the
/// charge-controlled HP deck of fixtures/ngspice/user/hp_charge.cir (a 0 V
/// ammeter, a G source charging a 1 F capacitor, R reading its voltage),
/// rewritten with the charge as `sdt(I(Vsense), q0)` the way LTspice users
/// write it (ngspice has no sdt(): its run of the capacitor form is the
/// ngspice-compatible equivalent, case user_hp_charge). Both states are the
/// charge; they agree to round-off, from a non-zero initial charge too.
#[test]
fn sdt_integral_is_the_capacitor_it_replaces() {
    let deck = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/ngspice/user/hp_charge.cir"
    ))
    .unwrap();
    let q0 = 1e-5;
    let capacitor = deck.replace("Cq q 0 1 IC=0", &format!("Cq q 0 1 IC={q0}"));
    assert_ne!(capacitor, deck);
    let mut integral = String::new();
    for line in capacitor.lines() {
        match line.split_whitespace().next() {
            Some("Gq" | "Cq" | "Rq") => continue,
            Some("Rmem") => integral.push_str(&format!(
                "Rmem p1 minus R={{min(Roff, max(Ron, Rinit - \
                 (Roff-Ron)*uv*Ron/D**2*sdt(I(Vsense), {q0})))}}\n"
            )),
            Some(".save") => continue,
            _ => {
                integral.push_str(line);
                integral.push('\n');
            }
        }
    }
    let capacitor = capacitor.replace(".save v(mid) i(v1) v(xm.q)\n", "");
    let a = run(&capacitor, 2.0);
    let b = run(&integral, 2.0);
    assert_eq!(a.len(), b.len());
    assert_eq!(a[0].1[0], q0);
    assert_eq!(b[0].1[0], q0);
    let (mut worst, mut moved) = (0.0f64, 0.0f64);
    for ((_, xa), (_, xb)) in a.iter().zip(&b) {
        worst = worst.max((xa[0] - xb[0]).abs());
        moved = moved.max((xa[0] - q0).abs());
    }
    assert!(moved > 1e-5, "the drive moves the charge ({moved})");
    assert!(worst <= 1e-15, "sdt vs capacitor: max |dq| = {worst}");
}

/// A body of two charge-controlled HP memristors in series (two state
/// capacitors, one internal node) runs as one device with an extra state,
/// and equals the same two subcircuits as two devices: the body's x_0 is
/// the first memristor's charge, its extra state the second's, which moves
/// x_0 through the shared current.
#[test]
fn a_body_with_two_capacitors_equals_its_two_halves() {
    let half = "\
.subckt hpq p n PARAMS: q0=0
Vs p a 0
Cq q 0 1 IC={q0}
Gq 0 q value={I(Vs)}
Rm a n R={16k - 15.9k*min(max(V(q)/1m, 0), 1)}
.ends hpq
";
    let two = "\
.subckt hpq2 p n
Vs p a 0
Cq1 q1 0 1 IC=0.2m
Gq1 0 q1 value={I(Vs)}
R1 a mid R={16k - 15.9k*min(max(V(q1)/1m, 0), 1)}
Cq2 q2 0 1 IC=0.6m
Gq2 0 q2 value={I(Vs)}
R2 mid n R={16k - 15.9k*min(max(V(q2)/1m, 0), 1)}
.ends hpq2
";
    let drive = "V1 in 0 SIN(0 4 0.5)\nR0 out 0 500\n";
    let one = format!("two states\n{two}{drive}X1 in out hpq2\n.end\n");
    let halves =
        format!("two devices\n{half}{drive}Xa in mid hpq q0=0.2m\nXb mid out hpq q0=0.6m\n.end\n");
    let a = run(&one, 2.0);
    let b = run(&halves, 2.0);
    assert_eq!(a.len(), b.len());
    let (mut worst, mut moved) = (0.0f64, 0.0f64);
    for ((_, xa), (_, xb)) in a.iter().zip(&b) {
        assert_eq!(xa.len(), 1, "one device, its extra state not a column");
        worst = worst.max((xa[0] - xb[0]).abs());
        moved = moved.max((xa[0] - 0.2e-3).abs());
    }
    // Both runs integrate the same equations at rtol 1e-12 (atol 1e-14 on
    // charges of 1e-4): they agree to the tolerance times the steps.
    assert!(moved > 1e-4, "the drive moves the charge ({moved})");
    assert!(worst <= 1e-11, "two-state body vs two devices: {worst}");
}

/// An inductor in a body holds a state (its current): a 1 mH inductor in
/// series with 1 kohm inside, 1 kohm outside, 1 V: i(t) = 0.5 mA (1 -
/// exp(-t / 0.5 us)), and `i(L1)` reads the state.
#[test]
fn an_inductor_in_a_body_is_a_state() {
    let deck = "rl body\n\
        .subckt rl p n\n\
        L1 p a 1m\n\
        R1 a n 1k\n\
        Bd 0 s I={I(L1) - V(s)}\n\
        Cs s 0 1\n\
        .ends rl\n\
        V1 in 0 1\n\
        X1 in mid rl\n\
        R2 mid 0 1k\n\
        .end\n";
    let c = memnet_spice::import_str(deck, "t.cir", &Default::default())
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let net = Network::from_circuit(&c).unwrap_or_else(|e| panic!("{}", e.render()));
    let opts = SimOptions {
        t_end: 3e-6,
        method: Method::Dopri5,
        rtol: 1e-12,
        atol: 1e-16,
        sample_dt: Some(1e-7),
        ..SimOptions::default()
    };
    let probes = memnet_solver::Probes::parse(&net, &["i(r2)".to_string()]).unwrap();
    let mut samples: Vec<(f64, Vec<f64>)> = Vec::new();
    memnet_solver::simulate_outputs(&net, &opts, &probes, &mut samples, &mut |_| {})
        .unwrap_or_else(|e| panic!("{e}"));
    let mut worst = 0.0f64;
    for (t, v) in &samples {
        let want = 0.5e-3 * (1.0 - (-t / 0.5e-6).exp());
        worst = worst.max((v[0] - want).abs());
    }
    // rtol 1e-12 on 0.5 mA: the global error of ~100 steps (it is 6e-12
    // at rtol 1e-10, so the bound follows the tolerance, not a bias).
    assert!(
        worst <= 1e-12,
        "inductor current vs the RL solution: {worst}"
    );
}

/// `time` in a body's expression and a time-dependent source inside a
/// body: a charge-counting body at 1 V with R = 1k (1 + t) holds q = 1e-3
/// ln(1 + t); with a SIN(0 0.5 1) source in series inside, q = (t - 0.5 (1
/// - cos 2 pi t) / (2 pi)) / 1k.
#[test]
fn time_and_sources_inside_a_body_follow_the_clock() {
    let deck = |inner: &str| {
        format!(
            "clock\n.subckt qc p n\nVs p a 0\n{inner}\nCq q 0 1\nGq 0 q value={{I(Vs)}}\n\
             .ends qc\nV1 in 0 1\nX1 in 0 qc\n.end\n"
        )
    };
    let a = run(&deck("Rt a n R={1k*(1+time)}"), 2.0);
    let b = run(&deck("Vb a b SIN(0 0.5 1)\nRb b n 1k"), 2.0);
    let (mut wa, mut wb) = (0.0f64, 0.0f64);
    let tau = std::f64::consts::TAU;
    for ((t, xa), (_, xb)) in a.iter().zip(&b) {
        wa = wa.max((xa[0] - 1e-3 * (1.0 + t).ln()).abs());
        let want = (t - 0.5 * (1.0 - (tau * t).cos()) / tau) / 1e3;
        wb = wb.max((xb[0] - want).abs());
    }
    // rtol 1e-12 on charges of ~1e-3, times the steps (4e-12 at rtol
    // 1e-10: the error follows the tolerance).
    assert!(wa <= 1e-12, "R(time) body vs 1e-3 ln(1+t): {wa}");
    assert!(wb <= 1e-12, "SIN source in a body vs its integral: {wb}");
}

/// What cannot be a state is refused with the element and the reason: a
/// capacitor in parallel with another (a loop of capacitors), more states
/// than memnet compiles.
#[test]
fn loops_of_capacitors_and_too_many_states_are_located_errors() {
    let deck = |body: &str| {
        format!("states\n.subckt m p n\nVs p a 0\n{body}\n.ends m\nV1 in 0 1\nX1 in 0 m\n.end\n")
    };
    for (body, want) in [
        (
            "Ra a n R={1k + V(x)}\nCx x 0 1\nC2 x 0 1\nGx 0 x value={I(Vs)}",
            "element c2 of subcircuit 'm': the capacitor closes a loop",
        ),
        (
            "Ra a n R={1k + sdt(I(Vs)) + sdt(2*I(Vs)) + sdt(3*I(Vs)) + sdt(4*I(Vs)) + sdt(5*I(Vs))}",
            "a state beyond the first 4",
        ),
    ] {
        let c = memnet_spice::import_str(&deck(body), "t.cir", &Default::default())
            .unwrap_or_else(|d| panic!("{}", d.render()));
        let net = Network::from_circuit(&c).unwrap_or_else(|e| panic!("{}", e.render()));
        let Err(e) = memnet_solver::Laws::from_network(&net) else {
            panic!("{body}: refused");
        };
        let text = e.to_string();
        assert!(
            text.contains(want) && text.contains("x1: law body"),
            "{body}: {text}"
        );
    }
}

/// Yakopcic's subcircuit as Xyce's regression deck writes it, F((V(TE) -
/// V(BE)), ...) with both pins off ground (a 50 ohm resistor below BE):
/// the difference of two pin-side reads is the device voltage, so the body
/// compiles and equals the same body written with V(TE,BE). A lone V(TE)
/// still depends on where the instance sits and stays refused.
#[test]
fn a_difference_of_pin_reads_is_the_device_voltage() {
    let body = |g: &str| {
        format!(
            "yakopcic\n.subckt yak TE BE XSV PARAMS: a1=0.17 a2=0.17 b=0.05 Vp=0.16 Vn=0.15 Ap=4000 \
             An=4000 xp=0.3 xn=0.5 alphap=1 alphan=5 xo=0.11 eta=1\n\
             .func wp(V) {{(xp-V)/(1-xp) + 1}}\n\
             .func wn(V) {{V/(1-xn)}}\n\
             .func G(V) {{IF( V <= Vp, IF( V >= -Vn, 0, -An*(exp(-V)-exp(Vn))), Ap*(exp(V)-exp(Vp))) }}\n\
             .func F(V1,V2) {{IF( eta*V1 >= 0, IF( V2 >= xp, exp(-alphap*(V2-xp))*wp(V2), 1), \
             IF(V2 <= (1-xn), exp(alphan*(V2+xn-1))*wn(V2), 1))}}\n\
             .func IVRel(V1, V2) {{IF( V1 >= 0, a1*V2*sinh(b*V1), a2*V2*sinh(b*V1))}}\n\
             Cx XSV 0 1 IC={{xo}}\n\
             Gx 0 XSV value={{{g}}}\n\
             Gm TE BE value = {{IVRel(V(TE,BE), V(XSV,0))}}\n\
             .ends yak\n\
             V1 n1 0 SIN(0 0.5 100 0)\nXmr1 n1 n3 n4 yak\nRb n3 0 50\n.end\n"
        )
    };
    let split = run(
        &body("eta*F((V(TE)-V(BE)), V(XSV)) * G(V(TE)-V(BE))"),
        20e-3,
    );
    let joined = run(&body("eta*F(V(TE,BE), V(XSV)) * G(V(TE,BE))"), 20e-3);
    let (mut worst, mut moved) = (0.0f64, 0.0f64);
    for ((_, a), (_, b)) in split.iter().zip(&joined) {
        worst = worst.max((a[0] - b[0]).abs());
        moved = moved.max((a[0] - 0.11).abs());
    }
    assert!(moved > 0.5, "the drive switches the device ({moved})");
    assert!(worst <= 1e-15, "V(TE)-V(BE) vs V(TE,BE): {worst}");
    let lone = body("eta*F(V(TE), V(XSV)) * G(V(TE)-V(BE))");
    let c = memnet_spice::import_str(&lone, "t.cir", &Default::default()).unwrap();
    let net = Network::from_circuit(&c).unwrap();
    let Err(e) = memnet_solver::Laws::from_network(&net) else {
        panic!("a lone V(TE) with both pins off ground compiled");
    };
    assert!(e.to_string().contains("v(te) reads the potential"), "{e}");
}

/// A display-only integral (Biolek's published model as Falatic's library
/// ships it: flux = SDT(V(plus,minus)) on a node nothing reads) is left out
/// with a warning naming it; the body's one real state remains, the
/// trajectory equals the body without that element, and asking for its
/// node is an error.
#[test]
fn a_display_only_integral_is_left_out_with_a_warning() {
    let deck = |extra: &str| {
        format!(
            "biolek\n.SUBCKT mem plus minus PARAMS: Ron=100 Roff=16K Rinit=11K D=10N uv=10F p=10\n\
             Gx 0 x value={{I(Emem)*uv*Ron/D**2*f(V(x),p)}}\n\
             Cx x 0 1 IC={{(Roff-Rinit)/(Roff-Ron)}}\n\
             Raux x 0 1T\n\
             Emem plus aux value={{-I(Emem)*V(x)*(Roff-Ron)}}\n\
             Roff aux minus {{Roff}}\n\
             {extra}\
             .func f(x,p)={{1-(2*x-1)**(2*p)}}\n\
             .ENDS mem\n\
             V1 in 0 SIN(0 1.2 1)\nXmem in 0 mem\n.end\n"
        )
    };
    let with =
        deck("Eflux flux 0 value={SDT(V(plus,minus))}\nEcharge charge 0 value={SDT(I(Emem))}\n");
    let c = memnet_spice::import_str(&with, "b.cir", &Default::default())
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let warned: Vec<String> = c
        .warnings
        .iter()
        .map(|w| format!("{}: {}", w.loc, w.message))
        .collect();
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert!(
        warned[0].contains("b.cir:8:1")
            && warned[0].contains("eflux")
            && warned[0].contains("v(xmem.flux)"),
        "{warned:?}"
    );
    let a = run(&with, 2.0);
    let b = run(&deck(""), 2.0);
    assert_eq!(a, b);
    let net = Network::from_circuit(&c).unwrap();
    let e = memnet_solver::Probes::parse(&net, &["v(xmem.flux)".to_string()]).unwrap_err();
    assert!(e.to_string().contains("xmem.flux"), "{e}");
}

/// A rate written as a G TABLE (PSpice/ngspice form; LTspice's table()
/// is the same call): linear between the points, flat beyond them. Across
/// an ideal DC source the state moves at table(V) exactly.
#[test]
fn a_table_rate_is_linear_between_its_points_and_flat_beyond() {
    for (v, rate) in [
        (1.25, 0.5),
        (3.0, 1.0),
        (0.3, 0.0),
        (-1.25, -0.5),
        (-2.0, -1.0),
        (0.5, 0.0),
    ] {
        let deck = format!(
            "table rate\n.subckt tabmem plus minus\n\
             Gx 0 x TABLE {{V(plus,minus)}} = (-2,-1) (-0.5,0) (0.5,0) (2,1)\n\
             Cx x 0 1 IC=0.5\n\
             Rmem plus minus r={{1k + 9k*V(x)}}\n\
             .ends tabmem\nV1 in 0 DC {v}\nXm in 0 tabmem\n.end\n"
        );
        let s = run(&deck, 0.2);
        let x = s.last().unwrap().1[0];
        let want = 0.5 + 0.2 * rate;
        assert!((x - want).abs() < 1e-12, "V = {v}: x = {x}, want {want}");
    }
    // Points out of order are a located error.
    let bad = "table\n.subckt m p n\nGx 0 x TABLE {V(p,n)} = (1,0) (0,1)\nCx x 0 1\n\
               Rm p n 1k\n.ends m\nV1 a 0 1\nXm a 0 m\n.end\n";
    let d = memnet_spice::import_str(bad, "t.cir", &Default::default()).unwrap_err();
    assert!(
        d.render().contains("t.cir:3:") && d.render().contains("x must not decrease"),
        "{}",
        d.render()
    );
}

/// POLY(n) sources are SPICE 2's polynomial of n controlling voltages or
/// currents: E POLY(1) c d p0 p1 p2 across an ideal DC source gives p0 +
/// p1 u + p2 u^2 on its node; POLY(2) and POLY(3) follow SPICE 2G6's order
/// of product terms (a, b, a^2, ab, b^2, ... and a, b, c, a^2, ab, ac, b^2,
/// bc, c^2, a^3, ...), with the pairs written bare or in parentheses.
#[test]
fn poly_sources_are_spice_2s_polynomials() {
    let deck = |e: &str| {
        format!(
            "poly\n.subckt m p n\nVb b 0 DC 0.25\nVc c 0 DC -2\n{e}\nGx 0 x value={{V(k)}}\n\
             Cx x 0 1 IC=0\nRk k 0 1e6\nRm p n 1k\n.ends m\nV1 a 0 DC 0.5\nXm a 0 m\n.end\n"
        )
    };
    // With u = V(p,n) = 0.5, b = 0.25, c = -2, x after 0.5 s is half of
    // V(k): each case states V(k).
    let rate = |e: &str| 2.0 * run(&deck(e), 0.5).last().unwrap().1[0];
    let close = |a: f64, b: f64| (a - b).abs() < 1e-11 * b.abs().max(1.0);
    // 1 + 2 u - 4 u^2 = 1.
    assert!(close(rate("Ek k 0 POLY(1) p n 1 2 -4"), 1.0));
    let (u, b, c) = (0.5f64, 0.25f64, -2.0f64);
    // p0 .. p5 on 1, u, b, u^2, u b, b^2.
    let want2 = 1.0 + 2.0 * u + 3.0 * b + 4.0 * u * u + 5.0 * u * b + 6.0 * b * b;
    assert!(close(rate("Ek k 0 POLY(2) p n b 0 1 2 3 4 5 6"), want2));
    assert!(close(rate("Ek k 0 POLY(2) (p,n) (b,0) 1 2 3 4 5 6"), want2));
    // The 3-D order through the cubes: 1, u, b, c, u^2, ub, uc, b^2, bc,
    // c^2, u^3, u^2 b; coefficients 1..12.
    let terms = [
        1.0,
        u,
        b,
        c,
        u * u,
        u * b,
        u * c,
        b * b,
        b * c,
        c * c,
        u * u * u,
        u * u * b,
    ];
    let want3: f64 = terms
        .iter()
        .enumerate()
        .map(|(k, t)| (k + 1) as f64 * t)
        .sum();
    let coeffs: Vec<String> = (1..=12).map(|k| k.to_string()).collect();
    let e3 = format!("Ek k 0 POLY(3) p n b 0 c 0 {}", coeffs.join(" "));
    assert!(close(rate(&e3), want3), "{} vs {want3}", rate(&e3));
    // G POLY(2) into a 1 ohm load is the same polynomial, as a current.
    let g = rate("Gk 0 k POLY(2) p n b 0 1 2 3 4 5 6\nRl k 0 1");
    assert!((g - want2).abs() < 1e-5 * want2, "{g} vs {want2}");
    // Too few controls, or a dimension that is not whole, are located.
    for bad in ["Ek k 0 POLY(2) p n b", "Ek k 0 POLY(1.5) p n 1 2"] {
        let d = memnet_spice::import_str(&deck(bad), "p.cir", &Default::default()).unwrap_err();
        let text = d.render();
        assert!(
            text.contains("p.cir:5:") && text.contains("POLY("),
            "{text}"
        );
    }
}

/// A selector with a series resistance and reverse breakdown inside a body:
/// the device current at a given voltage against ngspice 39's operating
/// points of the same diode alone (`.model dz d(is=1e-12 n=1.5 rs=50
/// bv=1.2 ibv=1u)`, `op` at each voltage, printed to 7 digits). The body
/// adds a state that draws no current.
#[test]
fn a_diode_with_rs_and_breakdown_is_ngspices() {
    let deck = "dz\n.model dz d(is=1e-12 n=1.5 rs=50 bv=1.2 ibv=1u)\n\
        .subckt sel p n\nD1 p n dz\nCx x 0 1\nGx 0 x value={0}\n.ends sel\n\
        V1 in 0 1\nX1 in 0 sel\n.end\n";
    let c = memnet_spice::import_str(deck, "t.cir", &Default::default())
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let net = Network::from_circuit(&c).unwrap_or_else(|e| panic!("{}", e.render()));
    let (laws, _) = memnet_solver::Laws::from_network(&net).unwrap();
    use memnet_solver::DeviceLaw;
    for (v, ngspice) in [
        (-1.0, -5.771365e-09),
        (-1.19, -7.720025e-07),
        (-1.25, -3.611303e-06),
        (-1.5, -8.066498e-04),
        (-2.0, -8.940168e-03),
        (0.5, 3.95126e-07),
        (0.8, 4.83584e-04),
        (1.0, 3.05362e-03),
    ] {
        let i = laws.current(0, 0.0, v).unwrap();
        // ngspice prints 6-7 digits; its op converges far below that.
        assert!(
            (i - ngspice).abs() <= 2e-6 * ngspice.abs(),
            "v = {v}: memnet {i}, ngspice {ngspice}"
        );
    }
}

/// `i()` of the body's current-defined elements reads their values, as
/// HSPICE and LTspice users write it (the Laiho-Biolek form `f(V(H),
/// I(Gm))`, the `Rmem ... R='...V(Q)'` / `Gx 0 Q cur='i(Rmem)'` form), with
/// HSPICE's global ground `gnd!`: the same body with each read written out
/// runs identically. An integral inside an element whose current is read
/// stays one state.
#[test]
fn currents_of_current_defined_elements_read_their_values() {
    let read = "\
i() reads
.global gnd!
.subckt hsp p n
.param k=2
Gm p n cur='V(p,n)*(1e-3+1e-3*V(h,gnd!))'
Rmem p n R='1k/(1+V(q))'
Gx gnd! h cur='k*I(Gm)*(1-V(h))'
Gq 0 q cur='i(Rmem) + 0*I(Gs)'
Gs 0 s cur='sdt(V(p,n), 0)'
Rs s 0 1
Cq q 0 1 IC=0
Cx h gnd! 1 IC=0.1
.ends hsp
V1 a 0 SIN(0 1 1)
R1 a b 100
X1 b 0 hsp
.end
";
    let written = read
        .replace(
            "Gx gnd! h cur='k*I(Gm)*(1-V(h))'",
            "Gx gnd! h cur='k*V(p,n)*(1e-3+1e-3*V(h,gnd!))*(1-V(h))'",
        )
        .replace(
            "Gq 0 q cur='i(Rmem) + 0*I(Gs)'",
            "Gq 0 q cur='V(p,n)/(1k/(1+V(q))) + 0*sdt(V(p,n), 0)'",
        );
    assert_ne!(read, written);
    let a = run(read, 1.0);
    let b = run(&written, 1.0);
    assert_eq!(a.len(), b.len());
    let mut moved = 0.0f64;
    for ((_, xa), (_, xb)) in a.iter().zip(&b) {
        assert_eq!(xa.len(), xb.len());
        for (p, q) in xa.iter().zip(xb) {
            assert!((p - q).abs() <= 1e-14, "{p} vs {q}");
        }
        moved = moved.max((xa[0] - 0.1).abs());
    }
    assert!(moved > 1e-3, "the drive moves the state ({moved})");
    // A current defined through itself is a located error.
    let own = read.replace("k*I(Gm)*(1-V(h))", "k*I(Gx)");
    let c = memnet_spice::import_str(&own, "deck.cir", &Default::default()).unwrap();
    let err = match Network::from_circuit(&c) {
        Err(e) => e.render(),
        Ok(net) => {
            let opts = SimOptions {
                t_end: 1.0,
                ..SimOptions::default()
            };
            simulate(&net, &opts, &mut Vec::new(), &mut |_| {})
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        }
    };
    assert!(err.contains("i(gx)") && err.contains("itself"), "{err}");
}

/// A body that has no solution at a state only a trial stage reaches (a
/// window written with `sgn` and an `exp` that overflows past the bound,
/// as in a published two-state model: 0 * inf there) rejects the step;
/// the run goes on at shorter steps and ends on the bound.
#[test]
fn a_body_unsolvable_at_a_trial_stage_rejects_the_step() {
    let deck = "\
trial fault
.subckt bound p n
.param sign2(v)='(sgn(v)+1)/2'
Gc 0 c cur='sign2(1-V(c))*(1-exp(-(1-V(c))/1e-4))*20'
Cc c 0 1 IC=0
Gw p n cur='V(p,n)*1e-3*(1+V(c)+0*exp(-(1-V(c))/1e-4))'
.ends bound
V1 a 0 DC 1
X1 a 0 bound
.end
";
    let c = memnet_spice::import_str(deck, "deck.cir", &Default::default())
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let net = Network::from_circuit(&c).unwrap_or_else(|e| panic!("{}", e.render()));
    let opts = SimOptions {
        t_end: 1.0,
        method: Method::Dopri5,
        rtol: 1e-6,
        atol: 1e-9,
        sample_dt: Some(0.1),
        ..SimOptions::default()
    };
    let mut samples = Vec::new();
    let report = simulate(&net, &opts, &mut samples, &mut |_| {}).unwrap_or_else(|e| panic!("{e}"));
    let (t, x) = samples.last().unwrap();
    assert_eq!(*t, 1.0);
    // On the bound to the step's tolerance (past it the window is 0).
    assert!((x[0] - 1.0).abs() < 1e-5, "ends on the bound: {}", x[0]);
    assert!(report.rejected_steps > 0, "{}", report.rejected_steps);
}

/// A top-level diode is a static device of the network: with a memristor
/// body beside it, the run's states are the memristor's alone, and the
/// diode's current is SPICE's junction law at the solved voltage (checked
/// against the circuit's own Kirchhoff law at every sample).
#[test]
fn a_top_level_diode_is_a_static_device() {
    let deck = "\
static diode
.model dm d(is=1e-12 n=1.5 rs=20)
.subckt hpq plus minus
Vam plus p1 0
Gq 0 q value={I(Vam)}
Cq q 0 1 IC=0
Rm p1 minus R={1k+1e6*V(q)}
.ends hpq
V1 in 0 SIN(0 2 1)
D1 in mid dm
Xm mid 0 hpq
.end
";
    let c = memnet_spice::import_str(deck, "deck.cir", &Default::default())
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let net = Network::from_circuit(&c).unwrap_or_else(|e| panic!("{}", e.render()));
    let d1 = net.edges.iter().position(|e| e.name == "d1").unwrap();
    assert!(net.is_static(d1));
    let probes = memnet_solver::Probes::parse(
        &net,
        &[
            "states".into(),
            "v(in)".into(),
            "v(mid)".into(),
            "v(d1#internal)".into(),
        ],
    )
    .unwrap();
    assert_eq!(probes.names(), ["xm", "v(in)", "v(mid)", "v(d1#internal)"]);
    let opts = SimOptions {
        t_end: 1.0,
        method: Method::Dopri5,
        rtol: 1e-10,
        atol: 1e-14,
        sample_dt: Some(0.05),
        ..SimOptions::default()
    };
    let mut samples: Vec<(f64, Vec<f64>)> = Vec::new();
    let report = memnet_solver::simulate_outputs(&net, &opts, &probes, &mut samples, &mut |_| {})
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.memristors, 1);
    let vt = 1.38064852e-23 / 1.6021766208e-19 * 300.15 * 1.5;
    let mut conducted = false;
    for (_, row) in &samples {
        let (q, vin, vmid, vint) = (row[0], row[1], row[2], row[3]);
        // The junction (ngspice's law, with its gmin) carries what rs
        // carries, and that is what the memristor carries.
        let vd = vint - vmid;
        let junction = if vd >= -3.0 * vt {
            1e-12 * ((vd / vt).exp() - 1.0)
        } else {
            -1e-12 * (1.0 + (3.0 * vt / (vd * std::f64::consts::E)).powi(3))
        } + 1e-12 * vd;
        let rs = (vin - vint) / 20.0;
        let mem = vmid / (1e3 + 1e6 * q);
        assert!(
            (junction - rs).abs() <= 1e-9 * rs.abs() + 1e-15,
            "{junction} vs {rs}"
        );
        assert!((mem - rs).abs() <= 1e-9 * rs.abs() + 1e-15, "{mem} vs {rs}");
        conducted |= rs > 1e-4;
    }
    assert!(conducted);
}

/// A body of more than 16 unknowns (here 22: a chain of eleven E buffers,
/// each a node and a branch current, the way large published models pass
/// values between helper nodes) compiles and equals the body without the
/// chain.
#[test]
fn a_body_of_22_unknowns_equals_its_short_form() {
    let body = |chain: bool| {
        let mut s = String::from("chain\n.subckt m p n\n");
        let mut last = "p,n".to_string();
        if chain {
            for k in 1..=11 {
                s.push_str(&format!("E{k} n{k} 0 value={{V({last})}}\n"));
                last = format!("n{k}");
            }
        }
        s.push_str(&format!(
            "Gx 0 x value={{1e-3*V({last})*(1-V(x))}}\nCx x 0 1 IC=0.1\n\
             Rm p n R={{1k*(1+V(x))}}\n.ends m\nV1 a 0 SIN(0 1 1)\nR1 a b 100\nXm b 0 m\n.end\n"
        ));
        s
    };
    let a = run(&body(true), 1.0);
    let b = run(&body(false), 1.0);
    let mut moved = 0.0f64;
    for ((_, xa), (_, xb)) in a.iter().zip(&b) {
        assert!((xa[0] - xb[0]).abs() <= 1e-13, "{} vs {}", xa[0], xb[0]);
        moved = moved.max((xa[0] - 0.1).abs());
    }
    assert!(moved > 1e-5, "{moved}");
}

/// High injection (`ikf`, and `ikr` in reverse and breakdown) as ngspice
/// computes it, on a top-level diode (a static device): the device current
/// at a given voltage against ngspice 39's `.dc` sweep of the same diode
/// (`.model dk d(is=1e-12 n=1.5 rs=20 ikf=1m ikr=2n bv=5 ibv=1u)`, i(V1)
/// printed to 7 digits).
#[test]
fn a_diode_with_high_injection_is_ngspices() {
    let deck = "dk\n.model dk d(is=1e-12 n=1.5 rs=20 ikf=1m ikr=2n bv=5 ibv=1u)\n\
        V1 in 0 1\nD1 in 0 dk\n.end\n";
    let c = memnet_spice::import_str(deck, "t.cir", &Default::default())
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let net = Network::from_circuit(&c).unwrap_or_else(|e| panic!("{}", e.render()));
    assert!(net.is_static(0));
    let (laws, _) = memnet_solver::Laws::from_network(&net).unwrap();
    use memnet_solver::DeviceLaw;
    for (v, i_v1) in [
        (-6.0, 4.943644e-03),
        (-5.5, 2.791262e-05),
        (-5.25, 1.118973e-06),
        (-4.75, 8.453694e-10),
        (-2.0, 2.978132e-12),
        (-0.5, 1.477519e-12),
        (0.5, -3.875430e-07),
        (0.75, -1.551420e-04),
        (1.0, -3.832340e-03),
    ] {
        let i = laws.current(0, 0.0, v).unwrap();
        // 7 printed digits, and ngspice's own convergence in the steep
        // breakdown (a few 1e-6 relative there).
        assert!(
            (i + i_v1).abs() <= 1e-5 * i_v1.abs(),
            "v = {v}: memnet {i}, ngspice {}",
            -i_v1
        );
    }
}

/// A body whose port reaches a grounded state capacitor through a
/// resistor (an RC: R from the pin to x, C from x to ground) is not linear
/// homogeneous in v: its current (v - x)/R has a term in the state alone.
/// Against the closed form of an RC charged from 1 V: x = 1 - e^(-t/RC).
/// (Found with a diode's junction capacitance behind its rs; before, the
/// port was taken as G v and the capacitor never charged.)
#[test]
fn an_rc_body_charges_as_an_rc() {
    // Behind a 1k source resistance: RC = 2k x 1m = 2 s.
    let deck = "rc\n.subckt rc p n\nR1 p x 1k\nC1 x 0 1m IC=0\n.ends rc\nV1 a 0 1\nR0 a b 1k\n\
        X1 b 0 rc\n.end\n";
    let s = run(deck, 3.0);
    let mut worst = 0.0f64;
    for (t, x) in &s {
        worst = worst.max((x[0] - (1.0 - (-t / 2.0).exp())).abs());
    }
    assert!(worst < 1e-9, "RC charge: max |dx| = {worst}");
}

/// `deck` run by dopri5 to `t_end` (default tolerances), with `v(a)` as the
/// one output every `sample_dt`: the samples, or the run's error.
fn run_v_a(
    deck: &str,
    t_end: f64,
    sample_dt: Option<f64>,
) -> Result<Vec<(f64, Vec<f64>)>, memnet_solver::SolveError> {
    let c = memnet_spice::import_str(deck, "deck.cir", &Default::default())
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let net = Network::from_circuit(&c).unwrap_or_else(|e| panic!("{}", e.render()));
    let probes = memnet_solver::Probes::parse(&net, &["v(a)".into()]).unwrap();
    let opts = SimOptions {
        t_end,
        method: Method::Dopri5,
        sample_dt,
        ..SimOptions::default()
    };
    let mut samples: Vec<(f64, Vec<f64>)> = Vec::new();
    memnet_solver::simulate_outputs(&net, &opts, &probes, &mut samples, &mut |_| {})
        .map(|_| samples)
}

/// A static body with a negative differential resistance (di/dv = -1/5 +
/// 3e-3 v^2 < 0 at the solution) behind 10 ohm: the node's Newton matrix
/// is 0.1 + di/dv < 0, not positive definite, and the solve goes through
/// the sparse LU. The potential satisfies Kirchhoff's law at the node,
/// (2 - v)/10 = -v/5 + 1e-3 v^3, to Newton's tolerance; the linear form
/// (no cubic term) gives v = -2 exactly as the one-factorisation path.
#[test]
fn a_negative_differential_resistance_is_solved_through_lu() {
    for (cubic, law) in [(1e-3, "-V(p,n)/5 + 1m*V(p,n)**3"), (0.0, "-V(p,n)/5")] {
        let deck = format!(
            "ndr\n.subckt ndr p n\nB1 p n I = {law}\n.ends\n\
             V1 in 0 DC 2\nR1 in a 10\nX1 a 0 ndr\n.end\n"
        );
        let samples = run_v_a(&deck, 1e-3, Some(2.5e-4)).unwrap_or_else(|e| panic!("{law}: {e}"));
        assert_eq!(samples.len(), 5);
        for (t, row) in &samples {
            let v = row[0];
            let kcl = (2.0 - v) / 10.0 - (-v / 5.0 + cubic * v.powi(3));
            assert!(kcl.abs() < 1e-10, "{law} at t = {t}: v = {v}, KCL {kcl:e}");
            assert!(
                0.1 - 0.2 + 3.0 * cubic * v * v < 0.0,
                "{law}: indefinite at v = {v}"
            );
        }
        if cubic == 0.0 {
            assert!((samples[0].1[0] + 2.0).abs() < 1e-12);
        }
    }
}

/// Newton that cannot converge is an error naming the device and its
/// line: a cube-root law I = 1m sgn(v)|v|^(1/3) behind 1 Mohm, whose slope
/// is infinite at its root (Newton's classic counter-example: each step
/// overshoots the root by twice its distance).
#[test]
fn newton_that_cannot_converge_names_the_device() {
    let deck = "cube root\n.subckt croot p n\nB1 p n I = 1m*sgn(V(p,n))*abs(V(p,n))**(1/3)\n.ends\n\
                V1 in 0 DC 1\nR1 in a 1meg\nXc a 0 croot\n.end\n";
    let e = run_v_a(deck, 1e-3, None).expect_err("Newton cannot converge on a cube root");
    assert!(
        matches!(e, memnet_solver::SolveError::NewtonFailed { .. }),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with(
            "deck.cir:7:1: xc: Newton on the node potentials did not converge at t = 0 in 100 \
             iterations"
        ),
        "{msg}"
    );
}

/// A negative conductance that cancels the rest at a node (a body of
/// -1/10 S behind 10 ohm) leaves the matrix singular: Cholesky fails, the
/// LU's zero pivot gives no finite potential, and the run stops with an
/// error naming the node instead of writing NaN.
#[test]
fn a_negative_conductance_cancelling_a_node_is_a_singular_matrix() {
    let deck = "cancel\n.subckt neg p n\nB1 p n I = -V(p,n)/10\n.ends\n\
                V1 in 0 DC 2\nR1 in a 10\nX1 a 0 neg\n.end\n";
    let e = run_v_a(deck, 1e-3, None).expect_err("a singular matrix");
    let msg = e.to_string();
    assert!(
        msg.contains("singular nodal matrix")
            && msg.contains("near node `a`")
            && msg.contains("a negative conductance cancels the rest at this node"),
        "{msg}"
    );
}
