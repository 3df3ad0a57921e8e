//! Parsing `.chaos` text into a syntax tree that keeps the source span of
//! every node, so that later stages can point their diagnostics at the exact
//! token.

mod ast;
mod error;
mod keywords;
mod line_endings;
mod nesting;
mod parser;
pub mod scan;
mod span;
pub mod units;

pub use ast::*;
pub use error::SyntaxError;
pub use keywords::KEYWORDS;
pub use nesting::MAX_NESTING;
pub use parser::parse_file;
pub use span::Span;
