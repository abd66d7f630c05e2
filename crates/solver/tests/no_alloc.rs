//! One right-hand-side evaluation allocates nothing: a counting global
//! allocator (per thread, so the test harness's other threads do not
//! interfere) around `MemoryRhs::eval`, for the simplicial (small) and
//! supernodal (larger grid) factorisations, with time-dependent sources,
//! current sources and voltage constraints, and the sticky rule.
#![allow(unsafe_code)] // implementing GlobalAlloc is necessarily unsafe

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use memnet_graph::{Injection, PotentialConstraint, SeriesSource};
use memnet_solver::{MemoryRhs, Ordering};
use memnet_spice::{Source, Waveform};

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc_zeroed(layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCS.with(|c| c.get())
}

/// Allocations made by two evaluations at the initial state, after a
/// warm-up (faer may initialise lazily on first use); the last rates are
/// left in `dw`.
fn allocations_in_two_evaluations(rhs: &mut MemoryRhs, dw: &mut Vec<f64>) -> u64 {
    let w = rhs.initial_state();
    dw.resize(w.len(), 0.0);
    rhs.eval(0.0, &w, dw).unwrap();
    let before = allocations();
    rhs.eval(0.1, &w, dw).unwrap();
    rhs.eval(0.2, &w, dw).unwrap();
    allocations() - before
}

fn check(rows: usize, ordering: Ordering, kind: &str) {
    check_with(rows, ordering, kind, false);
}

/// With `nonlinear`, every third edge is a Yakopcic device (current not
/// linear in v), so the evaluation runs Newton on the node potentials.
fn check_with(rows: usize, ordering: Ordering, kind: &str, nonlinear: bool) {
    let mut net = common::random_grid(rows, rows, 5.0, 1.0, 42);
    if nonlinear {
        net.laws.push(memnet_graph::LawSpec {
            law: "yakopcic".into(),
            options: Vec::new(),
            // Xyce's regression set, started at x = 0.5 so every device
            // conducts.
            params: common::YAKOPCIC
                .iter()
                .map(|&(k, v)| (k.to_string(), if k == "xo" { 0.5 } else { v }))
                .collect(),
            tables: Vec::new(),
            loc: None,
            body: None,
        });
        for e in net.edges.iter_mut().step_by(3) {
            e.device = memnet_graph::Device::Native { spec: 0 };
        }
    }
    net.edges[1].source = Some(Box::new(SeriesSource {
        name: "vs".into(),
        source: Source {
            dc: 0.0,
            waveform: Waveform::Sin {
                vo: 0.0,
                va: 1.0,
                freq: Some(3.0),
                td: 0.0,
                theta: 0.0,
                phase: 0.0,
            },
        },
        sign: 1.0,
        loc: None,
    }));
    net.injections.push(Injection {
        name: "i1".into(),
        from: 3,
        to: 5,
        source: Source::dc(0.1),
        loc: None,
    });
    net.constraints.push(PotentialConstraint {
        name: "v1".into(),
        pos: 7,
        neg: 0,
        source: Source::dc(0.5),
        loc: None,
    });
    net.constraints.push(PotentialConstraint {
        name: "v2".into(),
        pos: rows + 2,
        neg: rows + 3,
        source: Source::dc(0.2),
        loc: None,
    });
    let mut rhs = MemoryRhs::with_ordering(&net, net.tran_times(1.0), ordering).unwrap();
    assert_eq!(rhs.factor_kind(), kind);
    rhs.set_sticky(true);
    let mut dw = Vec::new();
    let n = allocations_in_two_evaluations(&mut rhs, &mut dw);
    assert_eq!(
        n, 0,
        "{rows}x{rows} {ordering:?}: {n} allocations in two evaluations"
    );
    let after = allocations();
    // The counter works: a Vec allocates.
    let v: Vec<u8> = std::iter::repeat_n(1, 10).collect();
    assert!(allocations() > after && v.len() == 10);
    // Not all-zero, so something was really computed.
    assert!(dw.iter().any(|&d| d != 0.0));
    assert_eq!(rhs.newton_iterations() > 0, nonlinear);
}

#[test]
fn one_rhs_evaluation_allocates_nothing() {
    check(6, Ordering::Amd, "simplicial");
    check(150, Ordering::Amd, "supernodal");
    check(60, Ordering::NestedDissection, "simplicial");
    // A law whose current is not linear in v: Newton allocates nothing
    // either.
    check_with(20, Ordering::Amd, "simplicial", true);
}

/// Reused factorisations (CG preconditioned with an earlier factor)
/// allocate nothing either, at states that differ so CG iterates.
#[test]
fn reused_factorisations_allocate_nothing() {
    let net = common::random_grid(30, 30, 5.0, 1.0, 9);
    let mut rhs = MemoryRhs::with_ordering(&net, net.tran_times(1.0), Ordering::Amd).unwrap();
    rhs.set_factor_reuse(Some(memnet_solver::FactorReuse::default()));
    let w = rhs.initial_state();
    let mut dw = vec![0.0; w.len()];
    rhs.eval(0.0, &w, &mut dw).unwrap();
    let moved: Vec<f64> = w.iter().map(|x| (x * 1.01).min(0.99)).collect();
    let before = allocations();
    rhs.eval(0.1, &moved, &mut dw).unwrap();
    rhs.eval(0.2, &w, &mut dw).unwrap();
    assert_eq!(allocations() - before, 0);
    let (iterations, solves) = rhs.reuse_counts();
    assert!(solves == 2 && iterations > 0, "{iterations} {solves}");
    assert_eq!(rhs.factorizations(), 1);
}

/// Compiled subcircuit bodies (docs/subcircuit-bodies.md) allocate nothing
/// per evaluation either: a linear one (Biolek's, one factorisation per
/// right-hand side) and a non-linear one (sinh port current: Newton on the
/// node potentials, each device's body solved by its own Newton).
#[test]
fn compiled_bodies_allocate_nothing() {
    let linear = "\
.subckt hpb plus minus PARAMS: Ron=100 Roff=16k D=10n uv=10f p=2
Gx 0 x value={I(Emem)*uv*Ron/D**2*(1-(V(x)-stp(-I(Emem)))**(2*p))}
Cx x 0 1 IC=0.4
Emem plus aux value={-I(Emem)*V(x)*(Roff-Ron)}
Roff aux minus {Roff}
.ends hpb
";
    let nonlinear = "\
.subckt hpb plus minus
Bx 0 x I={1e-3*V(plus,minus)*(1-V(x))*V(x)}
Cx x 0 1 IC=0.4
Bm plus minus I={1e-4*sinh(2*V(plus,minus))*(0.2+V(x))}
.ends hpb
";
    // A negative resistor at n3 makes Newton's matrix indefinite: its
    // solves go through the sparse LU, built at the warm-up evaluation.
    let indefinite =
        format!("{nonlinear}.subckt neg p n\nB1 p n I = -V(p,n)/5\n.ends\nXn n3 0 neg\n");
    for (body, newton) in [(linear, false), (nonlinear, true), (&indefinite, true)] {
        let mut deck = format!("bodies\n{body}V1 a 0 SIN(0 1 3)\n");
        for k in 0..6 {
            deck.push_str(&format!("X{k} n{k} n{} hpb\n", k + 1));
        }
        deck.push_str("Ra a n0 100\nRb n6 0 100\nRc n2 n5 1k\n.end\n");
        let c = memnet_spice::import_str(&deck, "b.cir", &Default::default())
            .unwrap_or_else(|d| panic!("{}", d.render()));
        let net =
            memnet_graph::Network::from_circuit(&c).unwrap_or_else(|e| panic!("{}", e.render()));
        let mut rhs = MemoryRhs::new(&net, net.tran_times(1.0)).unwrap();
        let mut dw = Vec::new();
        let n = allocations_in_two_evaluations(&mut rhs, &mut dw);
        assert_eq!(n, 0, "newton {newton}: {n} allocations");
        assert!(dw.iter().any(|&d| d != 0.0));
        assert_eq!(rhs.newton_iterations() > 0, newton);
        assert_eq!(rhs.factor_is_lu(), body.contains("neg"));
    }
}
