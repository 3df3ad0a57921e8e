//! The live view's drawing thread, and the log writer that prints log lines
//! above the view while it is on screen.
//!
//! The run's tasks only send messages on an unbounded channel, which never
//! blocks, so a slow terminal cannot delay an injection or a rollback. The
//! thread applies every message to the board and draws at most one frame
//! per [`FRAME_INTERVAL`]. When the terminal is slow, it draws fewer frames
//! but loses no event.
//!
//! The cursor is hidden while the view is on screen. It is shown again by
//! the last frame, by a panic hook when any thread panics, and by the
//! drawing thread's unwinding. Only a signal that chaosc does not handle
//! (SIGKILL, SIGQUIT, SIGHUP) ends the process with the cursor hidden.
//! NOTE: Ctrl-Z (SIGTSTP) suspends chaosc with the cursor hidden too, until
//! `fg` resumes the run.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use unicode_width::UnicodeWidthChar;

use super::board::Board;
use super::event::{ProgressEvent, timestamped};

/// The shortest time between two frames: at most ten redraws a second.
pub const FRAME_INTERVAL: Duration = Duration::from_millis(100);

/// Starts synchronized output (mode 2026), which keeps terminals that
/// support it from showing a half-drawn frame. Others ignore it.
const BEGIN_SYNC: &str = "\x1b[?2026h";
const END_SYNC: &str = "\x1b[?2026l";
const HIDE_CURSOR: &str = "\x1b[?25l";
const SHOW_CURSOR: &str = "\x1b[?25h";

/// The size assumed when the output is not a terminal (`--progress live`
/// into a pipe) or its size cannot be read.
const DEFAULT_SIZE: (usize, usize) = (80, 24);

/// A message from the run to the drawing thread.
pub enum Message {
    Event(Instant, ProgressEvent),
    /// Bytes of log output, printed above the view.
    Log(Vec<u8>),
    /// The run could not start: the view is erased and the thread ends.
    Close,
}

/// The channel of the live view that is on screen, if any. Log lines go
/// there instead of straight to standard error, so they do not tear the
/// view apart.
static LIVE_LOG: Mutex<Option<Sender<Message>>> = Mutex::new(None);

/// Whether the live view has hidden the cursor and not shown it again.
/// Written only while the standard error lock is held.
static CURSOR_HIDDEN: AtomicBool = AtomicBool::new(false);

/// Set by the panic hook. The view then stops redrawing, leaves its last
/// frame on screen, and prints events and log lines as plain lines below
/// the panic message, so that nothing is drawn over it.
static ABANDONED: AtomicBool = AtomicBool::new(false);

/// Sends log lines through the live view while one is on screen, and to
/// standard error otherwise. `main` gives it to the tracing subscriber.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let live = LIVE_LOG.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(sender) = live
            && sender.send(Message::Log(bytes.to_vec())).is_ok()
        {
            return Ok(bytes.len());
        }
        std::io::stderr().write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Routes log lines to `sender` until [`release_logs`].
pub fn capture_logs(sender: Sender<Message>) {
    *LIVE_LOG.lock().unwrap_or_else(|e| e.into_inner()) = Some(sender);
}

/// Sends log lines straight to standard error again.
pub fn release_logs() {
    *LIVE_LOG.lock().unwrap_or_else(|e| e.into_inner()) = None;
}

/// Installs, once per process, a panic hook that stops the live view and
/// shows the cursor before the panic message is printed. The async runtime
/// catches a panic in a run task and the run goes on, so the view must not
/// draw over the message.
pub fn abandon_on_panic() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            abandon();
            previous(info);
        }));
    });
}

/// Stops the live view where it is and shows the cursor.
fn abandon() {
    let mut stderr = std::io::stderr().lock();
    ABANDONED.store(true, Ordering::SeqCst);
    if CURSOR_HIDDEN.swap(false, Ordering::SeqCst) {
        let _ = write!(stderr, "{END_SYNC}{SHOW_CURSOR}");
        let _ = stderr.flush();
    }
}

/// Applies messages to a board and draws it on standard error until the
/// run's verdict arrives, [`Message::Close`] or every sender is gone. The
/// frame with the verdict stays on screen; without a verdict the view is
/// erased.
pub fn draw_until_finished(messages: Receiver<Message>, started: Instant) {
    let mut board = Board::new(started);
    let mut screen = Screen::new(started);
    let mut next_frame = Instant::now();
    while !screen.closed {
        let wait = next_frame.saturating_duration_since(Instant::now());
        match messages.recv_timeout(wait) {
            Ok(message) => {
                screen.take(message, &mut board);
                // Everything queued while the last frame was drawn is
                // applied before the next one, so frames are skipped, not
                // events.
                while let Ok(message) = messages.try_recv() {
                    screen.take(message, &mut board);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if board.is_finished() || screen.closed {
            break;
        }
        let now = Instant::now();
        if now >= next_frame {
            screen.draw(&board.render(now), false);
            next_frame = now + FRAME_INTERVAL;
        }
    }
    while let Ok(message) = messages.try_recv() {
        screen.take(message, &mut board);
    }
    if board.is_finished() {
        screen.draw(&board.render(Instant::now()), true);
    } else {
        screen.draw(&[], true);
    }
}

/// The state of the terminal: the height of the last frame, so that the
/// next one can replace it, and log text waiting to be printed above it.
struct Screen {
    started: Instant,
    drawn_lines: usize,
    last_frame: Vec<String>,
    pending_log: Vec<u8>,
    closed: bool,
}

impl Screen {
    fn new(started: Instant) -> Self {
        Screen {
            started,
            drawn_lines: 0,
            last_frame: Vec::new(),
            pending_log: Vec::new(),
            closed: false,
        }
    }

    /// Applies one message. Once the view is abandoned, events and log
    /// text are also printed as the plain output would print them.
    fn take(&mut self, message: Message, board: &mut Board) {
        let abandoned = ABANDONED.load(Ordering::SeqCst);
        match message {
            Message::Event(at, event) => {
                if abandoned {
                    self.print_plain(at, &event);
                }
                board.apply(at, event);
            }
            Message::Log(bytes) => {
                self.pending_log.extend_from_slice(&bytes);
                if abandoned {
                    self.print_pending_log();
                }
            }
            Message::Close => self.closed = true,
        }
    }

    fn print_plain(&mut self, at: Instant, event: &ProgressEvent) {
        self.print_pending_log();
        if let Some(line) = event.plain_line() {
            let elapsed = at.saturating_duration_since(self.started);
            let _ = writeln!(std::io::stderr(), "{}", timestamped(elapsed, &line));
        }
    }

    fn print_pending_log(&mut self) {
        let _ = std::io::stderr().write_all(&std::mem::take(&mut self.pending_log));
    }

    /// Replaces the last frame with `lines`, printing pending log lines
    /// above it. A frame equal to the last one is not drawn again. The
    /// final frame may be taller than the terminal, since it is never
    /// erased.
    fn draw(&mut self, lines: &[String], last: bool) {
        if !last && self.pending_log.is_empty() && lines == self.last_frame.as_slice() {
            return;
        }
        let (width, height) = terminal_size();
        let mut frame: Vec<String> = lines.iter().map(|line| fit(line, width)).collect();
        if !last && frame.len() >= height {
            let kept = height.saturating_sub(2);
            let hidden = frame.len() - kept;
            frame.truncate(kept);
            frame.push(fit(&format!("... {hidden} more lines"), width));
        }

        // The panic hook takes this lock to stop the view, so no frame is
        // drawn after it and none is cut in half.
        let mut stderr = std::io::stderr().lock();
        if ABANDONED.load(Ordering::SeqCst) {
            let _ = stderr.write_all(&std::mem::take(&mut self.pending_log));
            return;
        }
        let mut out = String::from(BEGIN_SYNC);
        if !last {
            out.push_str(HIDE_CURSOR);
        }
        // NOTE: a terminal that rewraps its lines when it is narrowed makes
        // the last frame taller than `drawn_lines`, so its top rows stay
        // above the next frame.
        if self.drawn_lines > 0 {
            out.push_str(&format!("\r\x1b[{}A\x1b[J", self.drawn_lines));
        }
        if let Some(end) = self.pending_log.iter().rposition(|byte| *byte == b'\n') {
            let complete: Vec<u8> = self.pending_log.drain(..=end).collect();
            out.push_str(&String::from_utf8_lossy(&complete));
        }
        for line in &frame {
            out.push_str(line);
            out.push('\n');
        }
        if last && !self.pending_log.is_empty() {
            out.push_str(&String::from_utf8_lossy(&self.pending_log));
            out.push('\n');
            self.pending_log.clear();
        }
        out.push_str(END_SYNC);
        if last {
            out.push_str(SHOW_CURSOR);
        }

        // A closed or failing standard error must not stop the run, so a
        // frame that cannot be written is lost.
        let _ = stderr.write_all(out.as_bytes());
        let _ = stderr.flush();
        CURSOR_HIDDEN.store(!last, Ordering::SeqCst);
        self.drawn_lines = frame.len();
        self.last_frame = lines.to_vec();
    }
}

impl Drop for Screen {
    /// Shows the cursor if the drawing thread ends without drawing its last
    /// frame, as when it panics.
    fn drop(&mut self) {
        let mut stderr = std::io::stderr().lock();
        if CURSOR_HIDDEN.swap(false, Ordering::SeqCst) {
            let _ = write!(stderr, "{END_SYNC}{SHOW_CURSOR}");
            let _ = stderr.flush();
        }
    }
}

/// Returns the width and height of standard error's terminal.
fn terminal_size() -> (usize, usize) {
    match terminal_size::terminal_size_of(std::io::stderr()) {
        Some((width, height)) if width.0 > 0 && height.0 > 0 => {
            (usize::from(width.0), usize::from(height.0))
        }
        _ => DEFAULT_SIZE,
    }
}

/// Cuts `line` to fewer columns than `width`, so that it never wraps and
/// each frame line takes one terminal row. Control characters (a newline in
/// an error message, an escape sequence in a probe's output) become spaces.
fn fit(line: &str, width: usize) -> String {
    let limit = width.saturating_sub(1);
    let mut fitted = String::with_capacity(line.len().min(limit * 4));
    let mut used = 0;
    for character in line.chars() {
        let character = if character.is_control() {
            ' '
        } else {
            character
        };
        let columns = character.width().unwrap_or(0);
        if used + columns > limit {
            break;
        }
        used += columns;
        fitted.push(character);
    }
    fitted.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_to_width() {
        assert_eq!(fit("abcdef", 4), "abc");
        assert_eq!(fit("abc", 80), "abc");
    }

    #[test]
    fn fit_replaces_control_characters() {
        assert_eq!(fit("a\nb\x1b[2Jc", 80), "a b [2Jc");
    }

    #[test]
    fn fit_counts_wide_characters() {
        // Each of these takes two columns.
        assert_eq!(fit("日本語", 6), "日本");
    }
}
