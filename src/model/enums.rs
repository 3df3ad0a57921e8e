//! The enumerations of the chaos domain, each with the names it is written
//! with in `.chaos` files and in JSON output.

use serde::{Deserialize, Serialize};

/// Declares a fieldless enum whose members have a fixed lowercase name.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every member, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Returns the name the member is written with.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Finds the member written as `text`.
            pub fn from_name(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

named_enum! {
    /// How much harm an experiment may do.
    Severity {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

named_enum! {
    /// The part of a system an experiment exercises.
    Category {
        Network = "network",
        Compute = "compute",
        Storage = "storage",
        Application = "application",
        Infrastructure = "infrastructure",
        Dependency = "dependency",
    }
}

named_enum! {
    /// The kind of failure a fault realises.
    FailureMode {
        NetworkPartition = "network_partition",
        ResourceExhaustion = "resource_exhaustion",
        DependencyFailure = "dependency_failure",
        DataCorruption = "data_corruption",
        ConfigurationDrift = "configuration_drift",
        TimeSkew = "time_skew",
        AuthenticationFailure = "authentication_failure",
    }
}

named_enum! {
    /// The final or current state of an experiment run.
    ExperimentStatus {
        Pending = "pending",
        Running = "running",
        Completed = "completed",
        Failed = "failed",
        Cancelled = "cancelled",
        RolledBack = "rolled_back",
        Aborted = "aborted",
    }
}

named_enum! {
    /// How a recovery plan restores service.
    RecoveryStrategy {
        ImmediateRollback = "immediate_rollback",
        GradualRecovery = "gradual_recovery",
        BlueGreenFailover = "blue_green_failover",
        CircuitBreaker = "circuit_breaker",
        LoadShedding = "load_shedding",
    }
}

named_enum! {
    /// The state of a recovery execution or of one of its actions.
    RecoveryStatus {
        Pending = "pending",
        InProgress = "in_progress",
        Completed = "completed",
        Failed = "failed",
        Partial = "partial",
        Skipped = "skipped",
    }
}

named_enum! {
    /// The kind of thing a target is.
    TargetKind {
        /// A local process, launched by chaosc or found through a pid file.
        Process = "process",
        /// A TCP proxy that chaosc runs in front of an upstream address.
        Proxy = "proxy",
        /// A regular file inside a declared root directory.
        File = "file",
        /// A directory that faults may write files into.
        Directory = "directory",
        /// A network interface, optionally inside a network namespace.
        Interface = "interface",
    }
}

named_enum! {
    /// Which way through a proxy a fault acts on.
    Direction {
        /// From the client towards the upstream.
        Upstream = "upstream",
        /// From the upstream back to the client.
        Downstream = "downstream",
        Both = "both",
    }
}

impl Direction {
    /// Tells whether a fault in this direction acts on `flow`.
    pub fn covers(self, flow: Direction) -> bool {
        self == Direction::Both || self == flow
    }
}

named_enum! {
    /// What a fault needs from the host to be injected.
    Privilege {
        /// Any user can inject it.
        User = "user",
        /// It needs root (or `CAP_NET_ADMIN` and similar capabilities).
        Root = "root",
    }
}

named_enum! {
    /// An HTTP request method that probes may use.
    HttpMethod {
        Get = "GET",
        Head = "HEAD",
        Post = "POST",
        Put = "PUT",
        Delete = "DELETE",
        Patch = "PATCH",
        Options = "OPTIONS",
    }
}

named_enum! {
    /// The severity of an alert.
    MonitorSeverity {
        Info = "info",
        Warning = "warning",
        Error = "error",
        Critical = "critical",
    }
}

named_enum! {
    /// The lifecycle state of an alert.
    AlertStatus {
        Active = "active",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
    }
}

named_enum! {
    /// A regulatory or security framework an experiment must comply with.
    ComplianceFramework {
        Sox = "sox",
        PciDss = "pci_dss",
        Hipaa = "hipaa",
        Gdpr = "gdpr",
        Nist = "nist",
        Iso27001 = "iso27001",
    }
}

named_enum! {
    /// The assessed risk of running an experiment.
    RiskLevel {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

named_enum! {
    /// How critical a service is to the business, most critical first.
    ServiceTier {
        Critical = "critical",
        High = "high",
        Medium = "medium",
        Low = "low",
    }
}

named_enum! {
    /// The class of data a service holds, for compliance rules.
    DataClass {
        Public = "public",
        Internal = "internal",
        Confidential = "confidential",
        /// Personally identifiable information.
        Pii = "pii",
        /// Protected health information.
        Phi = "phi",
        /// Payment card data.
        Cardholder = "cardholder",
        Financial = "financial",
    }
}

named_enum! {
    /// The kind of a notification channel.
    ChannelKind {
        /// A Slack incoming webhook.
        Slack = "slack",
        /// PagerDuty Events API v2.
        Pagerduty = "pagerduty",
        /// Email through an SMTP server.
        Email = "email",
    }
}

named_enum! {
    /// How reverting a fault restores its target.
    RevertKind {
        /// The fault's effect is undone in place (a proxy stops delaying).
        Undo = "undo",
        /// The target must be started again from its launch command, so a
        /// process chaosc did not launch cannot be restored.
        Restart = "restart",
    }
}
