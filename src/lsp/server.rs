//! The message loop: the `initialize` handshake, the open documents, and
//! the dispatch of requests and notifications to the feature modules.

use std::collections::HashMap;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, LogMessage,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{
    Completion, DocumentSymbolRequest, Formatting, GotoDefinition, HoverRequest, Request as _,
};
use lsp_types::{
    CompletionOptions, CompletionResponse, DocumentFormattingParams, DocumentSymbolParams,
    DocumentSymbolResponse, GotoDefinitionResponse, InitializeParams, InitializeResult,
    LogMessageParams, MessageType, OneOf, PublishDiagnosticsParams, Range, ServerCapabilities,
    ServerInfo, TextDocumentPositionParams, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextEdit, Uri,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::LspError;
use super::files::{StdlibFiles, uri_to_path};
use super::index::DocumentIndex;
use super::position::LineIndex;
use super::{completion, definition, diagnostics, format, hover, symbols};

/// Runs the handshake and the message loop until `shutdown` and `exit`.
pub fn serve(connection: &Connection) -> Result<(), LspError> {
    let (id, params) = connection.initialize_start()?;
    let params: InitializeParams =
        serde_json::from_value(params).map_err(LspError::InvalidInitialize)?;
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "chaosc".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
    };
    let result = serde_json::to_value(result).expect("the initialize result serializes");
    connection.initialize_finish(id, result)?;
    tracing::info!("language server initialized");

    let mut server = Server {
        documents: HashMap::new(),
        stdlib_files: StdlibFiles {
            workspace: workspace_folder(&params),
        },
        connection,
    };
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    tracing::info!("language server shut down");
                    return Ok(());
                }
                let response = server.handle_request(request);
                server.send(response.into())?;
            }
            Message::Notification(notification) if notification.method == "exit" => {
                return Err(LspError::ExitBeforeShutdown);
            }
            Message::Notification(notification) => server.handle_notification(notification)?,
            // The server sends no requests, so no response is expected.
            Message::Response(_) => {}
        }
    }
    Err(LspError::Disconnected)
}

/// Lists the features the server announces in the `initialize` response.
fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(true.into()),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(
                ["(", ",", ":", ".", "{"]
                    .iter()
                    .map(|c| (*c).to_owned())
                    .collect(),
            ),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// Returns the first workspace folder, or the deprecated root URI.
fn workspace_folder(params: &InitializeParams) -> Option<std::path::PathBuf> {
    if let Some(folder) = params.workspace_folders.as_ref().and_then(|f| f.first()) {
        return uri_to_path(&folder.uri);
    }
    #[allow(deprecated)]
    params.root_uri.as_ref().and_then(uri_to_path)
}

/// The state of the server between messages.
struct Server<'c> {
    /// The text of every open document, by URI, as the editor last sent it.
    documents: HashMap<Uri, String>,
    stdlib_files: StdlibFiles,
    connection: &'c Connection,
}

impl Server<'_> {
    fn send(&self, message: Message) -> Result<(), LspError> {
        self.connection
            .sender
            .send(message)
            .map_err(|_| LspError::Disconnected)
    }

    fn notify<P: Serialize>(&self, method: &str, params: P) -> Result<(), LspError> {
        self.send(Notification::new(method.to_owned(), params).into())
    }

    /// Applies a notification. A notification with invalid parameters is
    /// logged and dropped, because the protocol has no response to a notification.
    fn handle_notification(&mut self, notification: Notification) -> Result<(), LspError> {
        let method = notification.method.clone();
        let result = match method.as_str() {
            DidOpenTextDocument::METHOD => parse_params(notification.params).map(
                |params: lsp_types::DidOpenTextDocumentParams| {
                    let document = params.text_document;
                    self.documents.insert(document.uri.clone(), document.text);
                    (document.uri, Some(document.version))
                },
            ),
            DidChangeTextDocument::METHOD => parse_params(notification.params).map(
                |params: lsp_types::DidChangeTextDocumentParams| {
                    // With full synchronization, the last change contains
                    // the whole text.
                    let uri = params.text_document.uri;
                    if let Some(change) = params.content_changes.into_iter().last() {
                        self.documents.insert(uri.clone(), change.text);
                    }
                    (uri, Some(params.text_document.version))
                },
            ),
            DidCloseTextDocument::METHOD => parse_params(notification.params).map(
                |params: lsp_types::DidCloseTextDocumentParams| {
                    let uri = params.text_document.uri;
                    self.documents.remove(&uri);
                    (uri, None)
                },
            ),
            _ => {
                tracing::debug!(%method, "notification ignored");
                return Ok(());
            }
        };
        match result {
            Ok((uri, version)) => self.publish(&uri, version),
            Err(failure) => {
                tracing::warn!(%method, message = %failure.message, "notification dropped");
                Ok(())
            }
        }
    }

    /// Checks a document and sends its diagnostics; a closed document gets
    /// an empty list, which clears them.
    fn publish(&self, uri: &Uri, version: Option<i32>) -> Result<(), LspError> {
        let diagnostics = match self.documents.get(uri) {
            Some(text) => diagnostics::diagnose(uri, text),
            None => Vec::new(),
        };
        tracing::debug!(uri = uri.as_str(), count = diagnostics.len(), "diagnostics");
        let params = PublishDiagnosticsParams::new(uri.clone(), diagnostics, version);
        self.notify(PublishDiagnostics::METHOD, params)
    }

    fn handle_request(&self, request: Request) -> Response {
        let id = request.id.clone();
        tracing::debug!(method = %request.method, "request");
        let result = match request.method.as_str() {
            HoverRequest::METHOD => self.with_position(request.params, |index, offset, _| {
                Ok(hover::hover(index, offset))
            }),
            GotoDefinition::METHOD => self.with_position(request.params, |index, offset, uri| {
                let location = definition::definition(index, offset, uri, &self.stdlib_files)?;
                Ok(location.map(GotoDefinitionResponse::Scalar))
            }),
            Completion::METHOD => self.with_position(request.params, |index, offset, _| {
                Ok(CompletionResponse::Array(completion::complete(
                    index, offset,
                )))
            }),
            Formatting::METHOD => {
                parse_params(request.params).and_then(|params: DocumentFormattingParams| {
                    let uri = params.text_document.uri;
                    to_value(self.format(&uri, self.document(&uri)?))
                })
            }
            DocumentSymbolRequest::METHOD => {
                parse_params(request.params).and_then(|params: DocumentSymbolParams| {
                    let index = DocumentIndex::new(self.document(&params.text_document.uri)?);
                    let outline = symbols::document_symbols(&index);
                    to_value(DocumentSymbolResponse::Nested(outline))
                })
            }
            method => Err(Failure {
                code: ErrorCode::MethodNotFound,
                message: format!("unknown method `{method}`"),
            }),
        };
        match result {
            Ok(value) => Response::new_ok(id, value),
            Err(failure) => {
                tracing::warn!(message = %failure.message, "request failed");
                Response::new_err(id, failure.code as i32, failure.message)
            }
        }
    }

    /// Reads `TextDocumentPositionParams`, which hover, definition and
    /// completion all start with, and runs `handle` on the document and
    /// the byte offset of the position.
    fn with_position<R: Serialize>(
        &self,
        params: serde_json::Value,
        handle: impl FnOnce(&DocumentIndex<'_>, usize, &Uri) -> Result<R, LspError>,
    ) -> Result<serde_json::Value, Failure> {
        let params: TextDocumentPositionParams = parse_params(params)?;
        let uri = params.text_document.uri;
        let text = self.document(&uri)?;
        let index = DocumentIndex::new(text);
        let offset = LineIndex::new(text).offset(params.position);
        let result = handle(&index, offset, &uri).map_err(|error| Failure {
            code: ErrorCode::RequestFailed,
            message: error.to_string(),
        })?;
        to_value(result)
    }

    fn document(&self, uri: &Uri) -> Result<&str, Failure> {
        self.documents
            .get(uri)
            .map(String::as_str)
            .ok_or_else(|| invalid_params(&format!("`{}` is not open", uri.as_str())))
    }

    /// Formats a document into one edit over the whole text, no edit when
    /// it is already formatted, or none at all when the formatter leaves it
    /// alone, with the reason in the editor's log.
    fn format(&self, uri: &Uri, text: &str) -> Option<Vec<TextEdit>> {
        match format::format_source(text) {
            Ok(formatted) if formatted == text => Some(Vec::new()),
            Ok(formatted) => {
                let lines = LineIndex::new(text);
                let whole = Range::new(lines.position(0), lines.end());
                Some(vec![TextEdit::new(whole, formatted)])
            }
            Err(error) => {
                let message = format!("{} not formatted: {error}", uri.as_str());
                let params = LogMessageParams {
                    typ: MessageType::WARNING,
                    message,
                };
                // A lost log line only hides the reason; the editor still
                // gets its response, so the send result does not matter here.
                let _ = self.notify(LogMessage::METHOD, params);
                None
            }
        }
    }
}

/// A request that failed, as sent back to the editor.
struct Failure {
    code: ErrorCode,
    message: String,
}

fn invalid_params(reason: &str) -> Failure {
    Failure {
        code: ErrorCode::InvalidParams,
        message: format!("invalid parameters: {reason}"),
    }
}

fn to_value<R: Serialize>(result: R) -> Result<serde_json::Value, Failure> {
    serde_json::to_value(result).map_err(|error| Failure {
        code: ErrorCode::InternalError,
        message: error.to_string(),
    })
}

fn parse_params<P: DeserializeOwned>(params: serde_json::Value) -> Result<P, Failure> {
    serde_json::from_value(params).map_err(|error| invalid_params(&error.to_string()))
}
