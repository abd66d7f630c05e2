//! Parameter expressions (`{...}`, `'...'` and bare values): the union of
//! what ngspice, Xyce and LTspice accept in `.param`, `.func`, instance
//! parameters and element values.
//!
//! Precedence, lowest first: `? :`, `||`, `&&`, comparisons, `+ -`,
//! `* / %`, unary `- + !`, `^`/`**` (right-associative, binds tighter than
//! unary minus on its left: `-2^2 = -4`). Parsed with nom primitives in a
//! recursive descent that counts depth, so hostile input cannot overflow
//! the stack.

use nom::bytes::complete::take_while;
use nom::character::complete::satisfy;
use nom::combinator::recognize;
use nom::error::{ErrorKind, ParseError};
use nom::sequence::pair;
use nom::{IResult, Parser};

use crate::number::number_prefix;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

/// An expression tree. Names are lower-case.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Num(f64),
    Var(Box<str>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Cond(Box<[Expr; 3]>),
    Call(Box<(Box<str>, Vec<Expr>)>),
}

impl Expr {
    fn bin(op: BinOp, a: Expr, b: Expr) -> Expr {
        Expr::Binary(op, Box::new(a), Box::new(b))
    }

    /// Every variable name the expression reads (for dependency messages).
    pub fn visit_vars(&self, f: &mut impl FnMut(&str)) {
        match self {
            Expr::Num(_) => {}
            Expr::Var(v) => f(v),
            Expr::Unary(_, a) => a.visit_vars(f),
            Expr::Binary(_, a, b) => {
                a.visit_vars(f);
                b.visit_vars(f);
            }
            Expr::Cond(c) => c.iter().for_each(|e| e.visit_vars(f)),
            Expr::Call(c) => c.1.iter().for_each(|e| e.visit_vars(f)),
        }
    }
}

/// A parse failure: byte offset into the parsed text and a message.
#[derive(Clone, Debug, PartialEq)]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
}

#[derive(Debug)]
struct PErr<'a> {
    input: &'a str,
    msg: &'static str,
}

impl<'a> ParseError<&'a str> for PErr<'a> {
    fn from_error_kind(input: &'a str, _kind: ErrorKind) -> Self {
        PErr {
            input,
            msg: "expected a value",
        }
    }
    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'a, T> = IResult<&'a str, T, PErr<'a>>;

/// Deeper nesting than this is refused (no real netlist comes close).
const MAX_DEPTH: u32 = 200;
/// Operator nodes per expression: bounds the tree depth, so evaluating and
/// dropping a hostile `1+1+1+...` cannot overflow the stack either.
const MAX_NODES: u32 = 2000;

thread_local! {
    static NODES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Count one operator node; false once the budget is spent.
fn node_budget() -> bool {
    NODES.with(|n| {
        n.set(n.get() + 1);
        n.get() <= MAX_NODES
    })
}

fn fail<'a, T>(input: &'a str, msg: &'static str) -> Res<'a, T> {
    Err(nom::Err::Failure(PErr { input, msg }))
}

fn sp(i: &str) -> &str {
    i.trim_start()
}

fn ident(i: &str) -> Res<'_, &str> {
    recognize(pair(
        satisfy(|c: char| c.is_alphabetic() || c == '_'),
        take_while(|c: char| c.is_alphanumeric() || c == '_'),
    ))
    .parse(i)
}

fn ternary(i: &str, depth: u32) -> Res<'_, Expr> {
    if depth > MAX_DEPTH {
        return fail(i, "expression nested too deeply");
    }
    let (i, c) = binary(i, 0, depth)?;
    let j = sp(i);
    if let Some(j) = j.strip_prefix('?') {
        let (j, a) = ternary(j, depth + 1)?;
        let j = sp(j);
        let Some(j) = j.strip_prefix(':') else {
            return fail(j, "expected ':' of a conditional");
        };
        let (j, b) = ternary(j, depth + 1)?;
        return Ok((j, Expr::Cond(Box::new([c, a, b]))));
    }
    Ok((i, c))
}

const LEVELS: &[&[(&str, BinOp)]] = &[
    &[("||", BinOp::Or)],
    &[("&&", BinOp::And)],
    &[
        ("==", BinOp::Eq),
        ("!=", BinOp::Ne),
        ("<=", BinOp::Le),
        (">=", BinOp::Ge),
        ("<", BinOp::Lt),
        (">", BinOp::Gt),
    ],
    &[("+", BinOp::Add), ("-", BinOp::Sub)],
    &[("*", BinOp::Mul), ("/", BinOp::Div), ("%", BinOp::Mod)],
];

fn binary(i: &str, level: usize, depth: u32) -> Res<'_, Expr> {
    let Some(ops) = LEVELS.get(level) else {
        return unary(i, depth);
    };
    let (mut i, mut lhs) = binary(i, level + 1, depth)?;
    loop {
        let j = sp(i);
        let Some(&(tok, op)) = ops
            .iter()
            .find(|(t, _)| j.starts_with(t) && !(*t == "*" && j.starts_with("**")))
        else {
            break;
        };
        if !node_budget() {
            return fail(j, "expression too long");
        }
        let (k, rhs) = binary(&j[tok.len()..], level + 1, depth)?;
        lhs = Expr::bin(op, lhs, rhs);
        i = k;
    }
    Ok((i, lhs))
}

fn unary(i: &str, depth: u32) -> Res<'_, Expr> {
    if depth > MAX_DEPTH {
        return fail(i, "expression nested too deeply");
    }
    let j = sp(i);
    if j.starts_with(['-', '+', '!']) && !node_budget() {
        return fail(j, "expression too long");
    }
    if let Some(k) = j.strip_prefix('-') {
        let (k, e) = unary(k, depth + 1)?;
        return Ok((k, Expr::Unary(UnOp::Neg, Box::new(e))));
    }
    if let Some(k) = j.strip_prefix('+') {
        return unary(k, depth + 1);
    }
    if let Some(k) = j.strip_prefix('!')
        && !k.starts_with('=')
    {
        let (k, e) = unary(k, depth + 1)?;
        return Ok((k, Expr::Unary(UnOp::Not, Box::new(e))));
    }
    power(j, depth)
}

fn power(i: &str, depth: u32) -> Res<'_, Expr> {
    let (i, base) = atom(i, depth)?;
    let j = sp(i);
    let rest = j.strip_prefix("**").or_else(|| j.strip_prefix('^'));
    match rest {
        Some(k) => {
            let (k, e) = unary(k, depth + 1)?;
            Ok((k, Expr::bin(BinOp::Pow, base, e)))
        }
        None => Ok((i, base)),
    }
}

fn closing<'a>(i: &'a str, c: char, msg: &'static str) -> Res<'a, ()> {
    let j = sp(i);
    match j.strip_prefix(c) {
        Some(k) => Ok((k, ())),
        None => fail(j, msg),
    }
}

fn atom(i: &str, depth: u32) -> Res<'_, Expr> {
    let i = sp(i);
    if let Some((v, n)) = number_prefix(i) {
        return Ok((&i[n..], Expr::Num(v)));
    }
    if let Some(j) = i.strip_prefix('(') {
        let (j, e) = ternary(j, depth + 1)?;
        let (j, ()) = closing(j, ')', "expected ')'")?;
        return Ok((j, e));
    }
    if let Some(j) = i.strip_prefix('{') {
        let (j, e) = ternary(j, depth + 1)?;
        let (j, ()) = closing(j, '}', "expected '}'")?;
        return Ok((j, e));
    }
    let (j, name) = ident(i)?;
    let name = name.to_lowercase().into_boxed_str();
    let k = sp(j);
    let Some(mut k) = k.strip_prefix('(') else {
        return Ok((j, Expr::Var(name)));
    };
    let mut args = Vec::new();
    if let Some(rest) = sp(k).strip_prefix(')') {
        return Ok((rest, Expr::Call(Box::new((name, args)))));
    }
    loop {
        let (rest, a) = ternary(k, depth + 1)?;
        args.push(a);
        let rest = sp(rest);
        if let Some(r) = rest.strip_prefix(',') {
            k = r;
        } else if let Some(r) = rest.strip_prefix(')') {
            return Ok((r, Expr::Call(Box::new((name, args)))));
        } else {
            return fail(rest, "expected ',' or ')' in argument list");
        }
    }
}

/// Parse a complete expression; trailing text is an error.
pub fn parse_expr(text: &str) -> Result<Expr, ExprError> {
    NODES.with(|n| n.set(0));
    let at = |rest: &str| text.len() - rest.len();
    match ternary(text, 0) {
        Ok((rest, e)) => {
            let r = sp(rest);
            if r.is_empty() {
                Ok(e)
            } else {
                let shown: String = r.chars().take(12).collect();
                Err(ExprError {
                    offset: at(r),
                    message: format!("unexpected '{shown}' in expression"),
                })
            }
        }
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(ExprError {
            offset: at(e.input),
            message: e.msg.to_string(),
        }),
        Err(nom::Err::Incomplete(_)) => Err(ExprError {
            offset: text.len(),
            message: "incomplete expression".to_string(),
        }),
    }
}

fn truth(x: f64) -> bool {
    x != 0.0
}

fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

/// Apply a binary operator. Comparisons and logic give 1.0 / 0.0.
pub fn apply_binary(op: BinOp, a: f64, b: f64) -> f64 {
    match op {
        BinOp::Or => flag(truth(a) || truth(b)),
        BinOp::And => flag(truth(a) && truth(b)),
        BinOp::Eq => flag(a == b),
        BinOp::Ne => flag(a != b),
        BinOp::Lt => flag(a < b),
        BinOp::Le => flag(a <= b),
        BinOp::Gt => flag(a > b),
        BinOp::Ge => flag(a >= b),
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        BinOp::Mod => a % b,
        BinOp::Pow => a.powf(b),
    }
}

/// Built-in functions. `None` if `name` is not one; `Some(Err)` for a
/// wrong argument count. (`if` is handled lazily by the evaluator.)
pub fn builtin(name: &str, a: &[f64]) -> Option<Result<f64, String>> {
    let one = |f: fn(f64) -> f64| -> Result<f64, String> {
        match a {
            [x] => Ok(f(*x)),
            _ => Err(format!("{name}() takes 1 argument, got {}", a.len())),
        }
    };
    let two = |f: fn(f64, f64) -> f64| -> Result<f64, String> {
        match a {
            [x, y] => Ok(f(*x, *y)),
            _ => Err(format!("{name}() takes 2 arguments, got {}", a.len())),
        }
    };
    Some(match name {
        "abs" => one(f64::abs),
        "sqrt" => one(f64::sqrt),
        "exp" => one(f64::exp),
        // ngspice and LTspice: log is the natural logarithm.
        "ln" | "log" => one(f64::ln),
        "log10" => one(f64::log10),
        "sin" => one(f64::sin),
        "cos" => one(f64::cos),
        "tan" => one(f64::tan),
        "asin" => one(f64::asin),
        "acos" => one(f64::acos),
        "atan" => one(f64::atan),
        "sinh" => one(f64::sinh),
        "cosh" => one(f64::cosh),
        "tanh" => one(f64::tanh),
        "floor" => one(f64::floor),
        "ceil" => one(f64::ceil),
        "int" => one(f64::trunc),
        "round" | "nint" => one(f64::round),
        "sgn" | "sign" => one(|x| {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                0.0
            }
        }),
        // Unit step: 1 for x > 0, else 0 (LTspice u()/stp(), ngspice u()).
        "u" | "stp" => one(|x| flag(x > 0.0)),
        "pow" => two(f64::powf),
        // ngspice pwr(x, y) = sign(x) |x|^y.
        "pwr" => two(|x, y| x.signum() * x.abs().powf(y)),
        "atan2" => two(f64::atan2),
        "min" => two(f64::min),
        "max" => two(f64::max),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluate with no variables or user functions.
    fn ev(e: &Expr) -> f64 {
        match e {
            Expr::Num(v) => *v,
            Expr::Var(n) if &**n == "pi" => std::f64::consts::PI,
            Expr::Var(_) => f64::NAN,
            Expr::Unary(UnOp::Neg, a) => -ev(a),
            Expr::Unary(UnOp::Not, a) => flag(!truth(ev(a))),
            Expr::Binary(op, a, b) => apply_binary(*op, ev(a), ev(b)),
            Expr::Cond(c) => {
                if truth(ev(&c[0])) {
                    ev(&c[1])
                } else {
                    ev(&c[2])
                }
            }
            Expr::Call(c) => {
                let args: Vec<f64> = c.1.iter().map(ev).collect();
                builtin(&c.0, &args)
                    .and_then(Result::ok)
                    .unwrap_or(f64::NAN)
            }
        }
    }

    fn val(s: &str) -> f64 {
        match parse_expr(s) {
            Ok(e) => ev(&e),
            Err(e) => panic!("{s}: {e:?}"),
        }
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(val("1+2*3"), 7.0);
        assert_eq!(val("(1+2)*3"), 9.0);
        assert_eq!(val("2^3^2"), 512.0);
        assert_eq!(val("2**3"), 8.0);
        assert_eq!(val("-2^2"), -4.0);
        assert_eq!(val("2^-1"), 0.5);
        assert_eq!(val("10-4-3"), 3.0);
        assert_eq!(val("8/4/2"), 1.0);
        assert_eq!(val("1 < 2 && 3 >= 3"), 1.0);
        assert_eq!(val("1 == 2 || !0"), 1.0);
        assert_eq!(val("2 != 2"), 0.0);
        assert_eq!(val("1 ? 2 : 3"), 2.0);
        assert_eq!(val("0 ? 2 : 0 ? 4 : 5"), 5.0);
        assert_eq!(val("{1+1}*2"), 4.0);
        assert_eq!(val("10k/2"), 5e3);
        assert_eq!(val("7 % 4"), 3.0);
    }

    #[test]
    fn functions() {
        assert_eq!(val("max(1, min(5, 3))"), 3.0);
        assert_eq!(val("pow(2,10)"), 1024.0);
        assert_eq!(val("abs(-3)+sqrt(16)"), 7.0);
        assert_eq!(val("int(-2.7)+floor(2.7)+ceil(0.2)"), 1.0);
        assert_eq!(val("u(1)+stp(-1)+u(0)"), 1.0);
        assert!((val("ln(exp(2))") - 2.0).abs() < 1e-15);
        assert!((val("log10(1000)") - 3.0).abs() < 1e-15);
        assert!((val("sin(pi/2)") - 1.0).abs() < 1e-15);
        assert!((val("tanh(0)+cosh(0)+sinh(0)+atan(0)+cos(0)+tan(0)") - 2.0).abs() < 1e-15);
    }

    #[test]
    fn names_are_lower_case() {
        let e = parse_expr("Ron*XI").unwrap_or(Expr::Num(0.0));
        let mut names = Vec::new();
        e.visit_vars(&mut |n| names.push(n.to_string()));
        assert_eq!(names, ["ron", "xi"]);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let e = parse_expr("1 + (2 * 3").err();
        assert_eq!(
            e.map(|e| (e.offset, e.message)),
            Some((10, "expected ')'".into()))
        );
        let e = parse_expr("1 + * 2").err();
        assert_eq!(e.map(|e| e.offset), Some(4));
        let e = parse_expr("1.2.3").err();
        assert_eq!(e.map(|e| e.offset), Some(3));
        let e = parse_expr("max(1 2)").err();
        assert_eq!(e.map(|e| e.offset), Some(6));
        let deep = "(".repeat(100_000);
        assert!(parse_expr(&deep).is_err());
        let deep = "-".repeat(100_000) + "1";
        assert!(parse_expr(&deep).is_err());
        let long = "1".to_string() + &"+1".repeat(100_000);
        assert_eq!(
            parse_expr(&long).err().map(|e| e.message),
            Some("expression too long".into())
        );
        let ok = "1".to_string() + &"+1".repeat(500);
        assert!(parse_expr(&ok).is_ok());
    }
}
