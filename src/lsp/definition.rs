//! Go to definition: declarations of the document, and fault kinds, their
//! parameters, compliance frameworks, alert rules and modules in the
//! standard library's files.

use lsp_types::{Location, Position, Range, Uri};

use super::LspError;
use super::catalog::{CatalogFault, CatalogItem};
use super::files::{StdlibFiles, path_to_uri};
use super::index::DocumentIndex;
use super::position::LineIndex;
use super::resolve::{Referent, resolve};
use crate::check::stdlib;

/// Finds where the name at `offset` is declared.
pub fn definition(
    index: &DocumentIndex<'_>,
    offset: usize,
    uri: &Uri,
    stdlib_files: &StdlibFiles,
) -> Result<Option<Location>, LspError> {
    let Some(referent) = resolve(index, offset) else {
        return Ok(None);
    };
    let location = match referent {
        Referent::Decl(decl) => {
            let range = LineIndex::new(index.source).range(index.decls[decl].name_span);
            Location::new(uri.clone(), range)
        }
        Referent::Fault(name) => {
            let Some(fault) = CatalogFault::find(&name) else {
                return Ok(None);
            };
            let span = fault.name_span();
            stdlib_location(fault.module, stdlib_files, span)?
        }
        Referent::StdlibItem { module, name } => {
            let Some(item) = CatalogItem::find(&module, &name) else {
                return Ok(None);
            };
            stdlib_location(item.module, stdlib_files, item.name_span())?
        }
        Referent::Param { fault, param } => {
            let Some(fault) = CatalogFault::find(&fault) else {
                return Ok(None);
            };
            let Some(span) = fault.param_span(&param) else {
                return Ok(None);
            };
            stdlib_location(fault.module, stdlib_files, span)?
        }
        Referent::Module(path) => {
            let Some(module) = stdlib::modules().get(path.as_str()) else {
                return Ok(None);
            };
            let start = Position::new(0, 0);
            let uri = path_to_uri(&stdlib_files.path_of(module)?)?;
            Location::new(uri, Range::new(start, start))
        }
    };
    Ok(Some(location))
}

fn stdlib_location(
    module: &stdlib::Module,
    stdlib_files: &StdlibFiles,
    span: crate::syntax::Span,
) -> Result<Location, LspError> {
    let uri = path_to_uri(&stdlib_files.path_of(module)?)?;
    Ok(Location::new(
        uri,
        LineIndex::new(module.source).range(span),
    ))
}
