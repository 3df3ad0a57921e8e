//! The typed model of a checked `.chaos` file: what the checker proved and
//! what the planner and the runtime consume. Nothing here refers to syntax
//! except the names the user wrote.

mod enums;
mod experiment;
mod governance;
mod json_path;
mod monitoring;
mod value;

pub use enums::*;
pub use experiment::*;
pub use governance::*;
pub use json_path::{JsonPath, JsonPathError, JsonPathSegment, is_shorthand_name};
pub use monitoring::*;
pub use value::{TypedValue, ValueType};
