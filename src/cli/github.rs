//! GitHub Actions workflow commands (`::error file=...::message`), which
//! GitHub shows as annotations on the lines of a pull request.

use super::findings::FileFindings;

/// Renders every finding as one workflow command per line.
pub fn render(files: &[FileFindings]) -> String {
    let mut out = String::new();
    for file in files {
        for diagnostic in file.to_json() {
            let command = match diagnostic.severity {
                "warning" => "warning",
                "advice" => "notice",
                _ => "error",
            };
            let mut properties = Vec::new();
            if !file.path.is_empty() {
                properties.push(format!("file={}", escape_property(&file.path)));
            }
            if let Some(label) = diagnostic.labels.first() {
                properties.push(format!("line={}", label.line));
                properties.push(format!("col={}", label.column));
                properties.push(format!("endLine={}", label.end_line));
                properties.push(format!("endColumn={}", label.end_column));
            }
            properties.push(format!("title={}", escape_property(&diagnostic.code)));
            let mut message = diagnostic.message.clone();
            if let Some(help) = &diagnostic.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            out.push_str(&format!(
                "::{command} {}::{}\n",
                properties.join(","),
                escape_data(&message)
            ));
        }
    }
    out
}

/// Escapes a message the way the GitHub runner decodes it.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value, which also may not hold `:` or `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escapes_newlines_and_percent() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
    }

    #[test]
    fn property_escapes_separators() {
        assert_eq!(escape_property("chaos::E0101,x"), "chaos%3A%3AE0101%2Cx");
    }
}
