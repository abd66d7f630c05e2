//! memnet against the pinned ngspice outputs (fixtures/ngspice/*.raw),
//! without running ngspice: `cargo test` stays hermetic. The live
//! comparison (regenerating the outputs with real ngspice) is
//! `cargo xtask ngspice-check`; `--bless` rewrites the pinned files.

use memnet_crosscheck::{
    case_trajectory, cases, compare_case, memnet_trajectory, pinned_path, raw_trajectory,
    repo_root, stable_summary,
};

#[test]
fn memnet_agrees_with_pinned_ngspice_outputs() {
    let root = repo_root();
    let mut failures = Vec::new();
    for case in cases() {
        let pinned = pinned_path(&root, &case);
        assert!(
            pinned.exists(),
            "{} has no pinned ngspice output; run `cargo xtask ngspice-check --bless`",
            case.name
        );
        let ngspice = case_trajectory(&case, &pinned).expect("pinned raw file reads");
        let (memnet, _) = memnet_trajectory(&root, &case).expect("memnet runs the case");
        let report = compare_case(&case, &ngspice, &memnet).expect("comparable");
        insta::assert_snapshot!(case.name, stable_summary(&case, &report));
        // Every device of the deck is compared, none missing on either side.
        assert_eq!(report.devices_compared, memnet.names.len(), "{}", case.name);
        if !report.pass {
            failures.push(report.render());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_perturbed_trajectory_is_caught() {
    // The comparison can fail: shift one device by 1e-6 (ngspice agrees to
    // ~1e-9 on E2) and the check must reject it.
    let root = repo_root();
    let case = cases()
        .into_iter()
        .find(|c| c.name == "e2_series")
        .expect("e2 case");
    let ngspice = raw_trajectory(&pinned_path(&root, &case)).expect("pinned");
    let (mut memnet, _) = memnet_trajectory(&root, &case).expect("memnet");
    for v in &mut memnet.series[1] {
        *v += 1e-6;
    }
    let report = compare_case(&case, &ngspice, &memnet).expect("comparable");
    assert!(!report.pass);
    assert_eq!(report.devices_failing, 1);
}

#[test]
fn decades_round_up() {
    use memnet_crosscheck::decade_ceiling;
    assert_eq!(decade_ceiling(3.2e-9), 1e-8);
    assert_eq!(decade_ceiling(0.0), 0.0);
    assert_eq!(decade_ceiling(0.5), 1.0);
}
