//! Progress for people watching a run. The runtime emits events, and the
//! output prints them on standard error as timestamped lines or as a live
//! view, which a thread of its own redraws.

mod board;
mod event;
mod terminal;

use std::io::Write;
use std::sync::mpsc::{self, SendError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use event::timestamped;
pub use event::{Ending, ProgressEvent, RunOutline, RunSummary, StepOutline};
pub use terminal::{FRAME_INTERVAL, LogWriter};

use super::result::RunResult;
use terminal::Message;

/// The progress output of a run. Clones share the output.
#[derive(Debug, Clone)]
pub struct Progress {
    started: Instant,
    output: Output,
}

#[derive(Debug, Clone)]
enum Output {
    Silent,
    Plain,
    Live(Arc<LiveOutput>),
}

/// The sending end of the live view and its drawing thread.
#[derive(Debug)]
struct LiveOutput {
    sender: Sender<Message>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Progress {
    /// Prints nothing.
    pub fn silent() -> Self {
        Progress {
            started: Instant::now(),
            output: Output::Silent,
        }
    }

    /// Prints one timestamped line per event from now on.
    pub fn plain() -> Self {
        Progress {
            started: Instant::now(),
            output: Output::Plain,
        }
    }

    /// Draws a live view of the run on standard error from now on, and
    /// prints log lines above it. Falls back to plain lines when the
    /// drawing thread cannot start.
    pub fn live() -> Self {
        let started = Instant::now();
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("chaosc-progress".to_owned())
            .spawn(move || terminal::draw_until_finished(receiver, started));
        let Ok(thread) = thread else {
            return Progress::plain();
        };
        terminal::abandon_on_panic();
        terminal::capture_logs(sender.clone());
        let live = LiveOutput {
            sender,
            thread: Mutex::new(Some(thread)),
        };
        Progress {
            started,
            output: Output::Live(Arc::new(live)),
        }
    }

    /// Reports one event. While the live view is on screen, this only
    /// queues the event on an unbounded channel and does not wait for the
    /// terminal.
    pub fn emit(&self, event: ProgressEvent) {
        match &self.output {
            Output::Silent => {}
            Output::Plain => {
                if let Some(line) = event.plain_line() {
                    self.print_line(&line);
                }
            }
            Output::Live(live) => {
                // The drawing thread is gone after `finish`, or after a panic
                // of its own. The event is then printed as a plain line.
                let message = Message::Event(Instant::now(), event);
                if let Err(SendError(Message::Event(_, event))) = live.sender.send(message)
                    && let Some(line) = event.plain_line()
                {
                    self.print_line(&line);
                }
            }
        }
    }

    /// Prints a message that the user must see even with `--quiet`, such as
    /// why a second Ctrl-C does nothing. The live view prints it above
    /// itself.
    pub fn notice(&self, text: &str) {
        match &self.output {
            Output::Live(live) => {
                let line = format!("{text}\n").into_bytes();
                if live.sender.send(Message::Log(line)).is_err() {
                    eprintln!("{text}");
                }
            }
            Output::Silent | Output::Plain => eprintln!("{text}"),
        }
    }

    /// Ends the progress output once the run is over. The live view draws
    /// its last frame with the verdict of `result` and leaves it on screen.
    /// Without a result, because the run could not start, it erases itself.
    /// Returns once the drawing thread has ended, so that what is printed
    /// next comes below the view.
    pub fn finish(&self, result: Option<&RunResult>) {
        let Output::Live(live) = &self.output else {
            return;
        };
        let last = match result {
            Some(result) => {
                let summary = ProgressEvent::Finished(RunSummary::of(result));
                Message::Event(Instant::now(), summary)
            }
            None => Message::Close,
        };
        let _ = live.sender.send(last);
        let thread = live
            .thread
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(thread) = thread {
            // A panic of the drawing thread has already been printed, and
            // the run's result is still valid.
            let _ = thread.join();
        }
        terminal::release_logs();
    }

    fn print_line(&self, text: &str) {
        let line = timestamped(self.started.elapsed(), text);
        // A closed standard error must not stop a run that is reverting faults.
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}
