//! Parameter expressions (`{...}`, `'...'` and bare values): the union of
//! what ngspice, Xyce and LTspice accept in `.param`, `.func`, instance
//! parameters and element values.
//!
//! Precedence, lowest first: `? :`, `||` (or `|`), `&&` (or `&`), comparisons, `+ -`,
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

impl BinOp {
    /// The operator as SPICE writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
        }
    }
}

/// Fully parenthesised, so the text parses back to the same tree (numbers
/// print in Rust's shortest round-trip form).
impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expr::Num(v) if *v < 0.0 => write!(f, "(-{:e})", -v),
            Expr::Num(v) => write!(f, "{v:e}"),
            Expr::Var(n) => write!(f, "{n}"),
            Expr::Unary(UnOp::Neg, a) => write!(f, "(-{a})"),
            Expr::Unary(UnOp::Not, a) => write!(f, "(!{a})"),
            Expr::Binary(op, a, b) => write!(f, "({a}{}{b})", op.symbol()),
            Expr::Cond(c) => write!(f, "({}?{}:{})", c[0], c[1], c[2]),
            Expr::Call(c) => {
                write!(f, "{}(", c.0)?;
                for (k, a) in c.1.iter().enumerate() {
                    if k > 0 {
                        write!(f, ",")?;
                    }
                    write!(f, "{a}")?;
                }
                write!(f, ")")
            }
        }
    }
}

impl serde::Serialize for Expr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Named constants of ngspice's and LTspice's behavioural expressions, used
/// when no parameter of that name is in scope (ngspice's values, CODATA
/// 2014 as in its `const.h`).
pub fn constant(name: &str) -> Option<f64> {
    Some(match name {
        "pi" => std::f64::consts::PI,
        "e" => std::f64::consts::E,
        "boltz" => 1.380_648_52e-23,
        "echarge" => 1.602_176_620_8e-19,
        "planck" => 6.626_070_040e-34,
        "kelvin" => -273.15,
        // The nominal temperature (deg C) that ngspice's `temper` reads.
        "temper" => 27.0,
        _ => return None,
    })
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

/// A node or element name inside `v(...)` or `i(...)`.
fn probe_name(i: &str) -> Res<'_, &str> {
    let n = i
        .find(|c: char| c.is_whitespace() || ",(){}'\"".contains(c))
        .unwrap_or(i.len());
    if n == 0 {
        return fail(i, "expected a node name");
    }
    Ok((&i[n..], &i[..n]))
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

/// Binary operators by precedence, lowest first. LTspice writes logical
/// and/or with one character (`&`, `|`) as well as two.
const LEVELS: &[&[(&str, BinOp)]] = &[
    &[("||", BinOp::Or), ("|", BinOp::Or)],
    &[("&&", BinOp::And), ("&", BinOp::And)],
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
    // v() and i() take node and element names, not expressions: SPICE
    // names may hold characters an identifier may not (HSPICE's `gnd!`,
    // `n#1`, `x1.a`).
    let names = matches!(&*name, "v" | "i");
    loop {
        let (rest, a) = if names {
            let (rest, arg) = probe_name(sp(k))?;
            (rest, Expr::Var(arg.to_lowercase().into_boxed_str()))
        } else {
            ternary(k, depth + 1)?
        };
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
#[inline]
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

/// A built-in function of one, two or three arguments.
#[derive(Clone, Copy, Debug)]
pub enum Builtin {
    One(fn(f64) -> f64),
    Two(fn(f64, f64) -> f64),
    Three(fn(f64, f64, f64) -> f64),
}

impl Builtin {
    pub fn arity(self) -> usize {
        match self {
            Builtin::One(_) => 1,
            Builtin::Two(_) => 2,
            Builtin::Three(_) => 3,
        }
    }
}

fn sgn(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Unit step: 1 for x > 0, else 0 (LTspice u()/stp(), ngspice u()).
fn step(x: f64) -> f64 {
    flag(x > 0.0)
}

/// ngspice pwr(x, y) = sign(x) |x|^y.
fn pwr(x: f64, y: f64) -> f64 {
    x.signum() * x.abs().powf(y)
}

/// ngspice uramp(x): x for x > 0, else 0.
fn uramp(x: f64) -> f64 {
    if x > 0.0 { x } else { 0.0 }
}

/// ngspice u2(x) = min(1, max(0, x)).
fn u2(x: f64) -> f64 {
    x.clamp(0.0, 1.0)
}

/// limit(x, a, b): x clamped to [min(a, b), max(a, b)] (LTspice, HSPICE,
/// ngspice's B source).
fn limit(x: f64, a: f64, b: f64) -> f64 {
    x.max(a.min(b)).min(a.max(b))
}

/// The built-in functions by name (aliases listed separately); `if` is
/// evaluated lazily by the evaluators, not here.
pub const BUILTINS: &[(&str, Builtin)] = &[
    ("abs", Builtin::One(f64::abs)),
    ("sqrt", Builtin::One(f64::sqrt)),
    ("exp", Builtin::One(f64::exp)),
    // ngspice and LTspice: log is the natural logarithm.
    ("ln", Builtin::One(f64::ln)),
    ("log", Builtin::One(f64::ln)),
    ("log10", Builtin::One(f64::log10)),
    ("sin", Builtin::One(f64::sin)),
    ("cos", Builtin::One(f64::cos)),
    ("tan", Builtin::One(f64::tan)),
    ("asin", Builtin::One(f64::asin)),
    ("acos", Builtin::One(f64::acos)),
    ("atan", Builtin::One(f64::atan)),
    ("sinh", Builtin::One(f64::sinh)),
    ("cosh", Builtin::One(f64::cosh)),
    ("tanh", Builtin::One(f64::tanh)),
    ("floor", Builtin::One(f64::floor)),
    ("ceil", Builtin::One(f64::ceil)),
    ("int", Builtin::One(f64::trunc)),
    ("round", Builtin::One(f64::round)),
    ("nint", Builtin::One(f64::round)),
    ("sgn", Builtin::One(sgn)),
    ("sign", Builtin::One(sgn)),
    ("u", Builtin::One(step)),
    ("stp", Builtin::One(step)),
    ("uramp", Builtin::One(uramp)),
    ("u2", Builtin::One(u2)),
    ("pow", Builtin::Two(f64::powf)),
    ("pwr", Builtin::Two(pwr)),
    ("atan2", Builtin::Two(f64::atan2)),
    ("min", Builtin::Two(f64::min)),
    ("max", Builtin::Two(f64::max)),
    ("hypot", Builtin::Two(f64::hypot)),
    ("limit", Builtin::Three(limit)),
];

/// The partial derivatives of a built-in function, in the order of
/// [`BUILTINS`]: for one argument `f'(a)` given `a` and `f(a)`, for two or
/// three the partials in each argument. Piecewise-constant functions have
/// 0; at a kink the derivative of the branch the function takes there
/// (what a Newton iteration needs, as in SPICE's B source).
#[derive(Clone, Copy, Debug)]
pub enum Partials {
    One(fn(f64, f64) -> f64),
    Two(fn(f64, f64, f64) -> [f64; 2]),
    Three(fn(f64, f64, f64, f64) -> [f64; 3]),
}

fn zero1(_: f64, _: f64) -> f64 {
    0.0
}

/// d/db a^b = a^b ln a, taken as 0 where a^b is 0 (a = 0, b > 0).
fn dpow_exponent(a: f64, f: f64) -> f64 {
    if f == 0.0 { 0.0 } else { f * a.abs().ln() }
}

/// [`Partials`] of each entry of [`BUILTINS`], same order.
pub const BUILTIN_PARTIALS: &[Partials] = &[
    Partials::One(|a, _| sgn(a)),
    Partials::One(|_, f| 0.5 / f),
    Partials::One(|_, f| f),
    Partials::One(|a, _| 1.0 / a),
    Partials::One(|a, _| 1.0 / a),
    Partials::One(|a, _| 1.0 / (a * std::f64::consts::LN_10)),
    Partials::One(|a, _| a.cos()),
    Partials::One(|a, _| -a.sin()),
    Partials::One(|_, f| 1.0 + f * f),
    Partials::One(|a, _| 1.0 / (1.0 - a * a).sqrt()),
    Partials::One(|a, _| -1.0 / (1.0 - a * a).sqrt()),
    Partials::One(|a, _| 1.0 / (1.0 + a * a)),
    Partials::One(|a, _| a.cosh()),
    Partials::One(|a, _| a.sinh()),
    Partials::One(|_, f| 1.0 - f * f),
    Partials::One(zero1),
    Partials::One(zero1),
    Partials::One(zero1),
    Partials::One(zero1),
    Partials::One(zero1),
    Partials::One(zero1),
    Partials::One(zero1),
    Partials::One(zero1),
    Partials::One(zero1),
    Partials::One(|a, _| step(a)),
    Partials::One(|a, _| flag(a > 0.0 && a < 1.0)),
    Partials::Two(|a, b, f| [b * a.powf(b - 1.0), dpow_exponent(a, f)]),
    Partials::Two(|a, b, f| [b * a.abs().powf(b - 1.0), dpow_exponent(a, f)]),
    Partials::Two(|y, x, _| {
        let h = x * x + y * y;
        [x / h, -y / h]
    }),
    Partials::Two(|a, b, _| if a <= b { [1.0, 0.0] } else { [0.0, 1.0] }),
    Partials::Two(|a, b, _| if a >= b { [1.0, 0.0] } else { [0.0, 1.0] }),
    Partials::Two(|a, b, f| [a / f, b / f]),
    Partials::Three(|x, a, _b, f| {
        if f == x {
            [1.0, 0.0, 0.0]
        } else if f == a {
            [0.0, 1.0, 0.0]
        } else {
            [0.0, 0.0, 1.0]
        }
    }),
];

/// The partial derivatives of a binary operator at (a, b), its value `f`.
#[inline]
pub fn binary_partials(op: BinOp, a: f64, b: f64, f: f64) -> [f64; 2] {
    match op {
        BinOp::Add => [1.0, 1.0],
        BinOp::Sub => [1.0, -1.0],
        BinOp::Mul => [b, a],
        BinOp::Div => [1.0 / b, -f / b],
        BinOp::Mod => [1.0, -(a / b).trunc()],
        BinOp::Pow => [b * a.powf(b - 1.0), dpow_exponent(a, f)],
        _ => [0.0, 0.0],
    }
}

/// The index of built-in `name` in [`BUILTINS`].
pub fn builtin_index(name: &str) -> Option<usize> {
    BUILTINS.iter().position(|(n, _)| *n == name)
}

/// Built-in functions. `None` if `name` is not one; `Some(Err)` for a
/// wrong argument count. (`if` is handled lazily by the evaluator.)
pub fn builtin(name: &str, a: &[f64]) -> Option<Result<f64, String>> {
    let (_, f) = BUILTINS[builtin_index(name)?];
    Some(match (f, a) {
        (Builtin::One(f), [x]) => Ok(f(*x)),
        (Builtin::Two(f), [x, y]) => Ok(f(*x, *y)),
        (Builtin::Three(f), [x, y, z]) => Ok(f(*x, *y, *z)),
        (f, _) => {
            let n = f.arity();
            Err(format!(
                "{name}() takes {n} argument{}, got {}",
                if n == 1 { "" } else { "s" },
                a.len()
            ))
        }
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
        // LTspice's one-character logical and/or.
        assert_eq!(val("1 < 2 & 3 < 2"), 0.0);
        assert_eq!(val("1 < 2 | 3 < 2"), 1.0);
        assert_eq!(val("0 | 0 & 1"), 0.0);
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

    /// Each built-in's partials against central differences at points away
    /// from its kinks (the table is parallel to BUILTINS).
    #[test]
    fn builtin_partials_match_differences() {
        assert_eq!(BUILTINS.len(), BUILTIN_PARTIALS.len());
        let points: [[f64; 3]; 3] = [[0.37, 1.7, -0.6], [0.81, 2.3, 0.45], [0.12, 0.6, 3.1]];
        for (k, ((name, f), df)) in BUILTINS.iter().zip(BUILTIN_PARTIALS).enumerate() {
            for p in points {
                let h = 1e-6;
                let (num, exact): (Vec<f64>, Vec<f64>) = match (f, df) {
                    (Builtin::One(f), Partials::One(d)) => (
                        vec![(f(p[0] + h) - f(p[0] - h)) / (2.0 * h)],
                        vec![d(p[0], f(p[0]))],
                    ),
                    (Builtin::Two(f), Partials::Two(d)) => (
                        vec![
                            (f(p[0] + h, p[1]) - f(p[0] - h, p[1])) / (2.0 * h),
                            (f(p[0], p[1] + h) - f(p[0], p[1] - h)) / (2.0 * h),
                        ],
                        d(p[0], p[1], f(p[0], p[1])).to_vec(),
                    ),
                    (Builtin::Three(f), Partials::Three(d)) => (
                        (0..3)
                            .map(|j| {
                                let (mut a, mut b) = (p, p);
                                a[j] += h;
                                b[j] -= h;
                                (f(a[0], a[1], a[2]) - f(b[0], b[1], b[2])) / (2.0 * h)
                            })
                            .collect(),
                        d(p[0], p[1], p[2], f(p[0], p[1], p[2])).to_vec(),
                    ),
                    _ => panic!("{name} (#{k}): arity of its partials differs"),
                };
                for (a, b) in num.iter().zip(&exact) {
                    assert!(
                        (a - b).abs() <= 1e-6 * (1.0 + b.abs()),
                        "{name} at {p:?}: difference {a} vs partial {b}"
                    );
                }
            }
        }
        for op in [
            BinOp::Add,
            BinOp::Sub,
            BinOp::Mul,
            BinOp::Div,
            BinOp::Pow,
            BinOp::Mod,
        ] {
            let (a, b, h) = (1.3, 0.7, 1e-6);
            let f = |a, b| apply_binary(op, a, b);
            let d = binary_partials(op, a, b, f(a, b));
            let da = (f(a + h, b) - f(a - h, b)) / (2.0 * h);
            let db = (f(a, b + h) - f(a, b - h)) / (2.0 * h);
            assert!(
                (da - d[0]).abs() < 1e-6 && (db - d[1]).abs() < 1e-6,
                "{op:?}"
            );
        }
    }
}
