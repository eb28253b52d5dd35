//! `k8s.io/api/apps/v1` Deployment and `k8s.io/api/batch/v1` Job. Their status carries only
//! the counters (conditions are not decoded): clients never send a status, and the cluster
//! resets it on create anyway.

use super::meta::{LABEL_SELECTOR, METADATA};
use super::pod::POD_TEMPLATE_SPEC;
use crate::protobuf::schema::FieldType::{Bool, Int32, Int64, IntOrString, Object, Text, Time};
use crate::protobuf::schema::{Field, Message};

/// `apps/v1.Deployment`.
pub(crate) static DEPLOYMENT: Message = Message::new(
    "Deployment",
    &[
        METADATA,
        Field::new(2, "spec", Object(&DEPLOYMENT_SPEC)),
        Field::new(3, "status", Object(&DEPLOYMENT_STATUS)),
    ],
);

static DEPLOYMENT_SPEC: Message = Message::new(
    "DeploymentSpec",
    &[
        Field::new(1, "replicas", Int32).pointer(),
        Field::new(2, "selector", Object(&LABEL_SELECTOR)),
        Field::new(3, "template", Object(&POD_TEMPLATE_SPEC)),
        Field::new(4, "strategy", Object(&DEPLOYMENT_STRATEGY)),
        Field::new(5, "minReadySeconds", Int32),
        Field::new(6, "revisionHistoryLimit", Int32).pointer(),
        Field::new(7, "paused", Bool),
        Field::new(9, "progressDeadlineSeconds", Int32).pointer(),
    ],
);

static DEPLOYMENT_STRATEGY: Message = Message::new(
    "DeploymentStrategy",
    &[
        Field::new(1, "type", Text),
        Field::new(2, "rollingUpdate", Object(&ROLLING_UPDATE_DEPLOYMENT)),
    ],
);

static ROLLING_UPDATE_DEPLOYMENT: Message = Message::new(
    "RollingUpdateDeployment",
    &[
        Field::new(1, "maxUnavailable", IntOrString),
        Field::new(2, "maxSurge", IntOrString),
    ],
);

static DEPLOYMENT_STATUS: Message = Message::new(
    "DeploymentStatus",
    &[
        Field::new(1, "observedGeneration", Int64),
        Field::new(2, "replicas", Int32),
        Field::new(3, "updatedReplicas", Int32),
        Field::new(4, "availableReplicas", Int32),
        Field::new(5, "unavailableReplicas", Int32),
        Field::new(7, "readyReplicas", Int32),
        Field::new(8, "collisionCount", Int32).pointer(),
        Field::new(9, "terminatingReplicas", Int32).pointer(),
    ],
);

/// `batch/v1.Job`.
pub(crate) static JOB: Message = Message::new(
    "Job",
    &[
        METADATA,
        Field::new(2, "spec", Object(&JOB_SPEC)),
        Field::new(3, "status", Object(&JOB_STATUS)),
    ],
);

static JOB_SPEC: Message = Message::new(
    "JobSpec",
    &[
        Field::new(1, "parallelism", Int32).pointer(),
        Field::new(2, "completions", Int32).pointer(),
        Field::new(3, "activeDeadlineSeconds", Int64).pointer(),
        Field::new(4, "selector", Object(&LABEL_SELECTOR)),
        Field::new(5, "manualSelector", Bool).pointer(),
        Field::new(6, "template", Object(&POD_TEMPLATE_SPEC)),
        Field::new(7, "backoffLimit", Int32).pointer(),
        Field::new(8, "ttlSecondsAfterFinished", Int32).pointer(),
        Field::new(9, "completionMode", Text).pointer(),
        Field::new(10, "suspend", Bool).pointer(),
        Field::new(12, "backoffLimitPerIndex", Int32).pointer(),
        Field::new(13, "maxFailedIndexes", Int32).pointer(),
        Field::new(14, "podReplacementPolicy", Text).pointer(),
        Field::new(15, "managedBy", Text).pointer(),
    ],
);

static JOB_STATUS: Message = Message::new(
    "JobStatus",
    &[
        Field::new(2, "startTime", Time).pointer(),
        Field::new(3, "completionTime", Time).pointer(),
        Field::new(4, "active", Int32),
        Field::new(5, "succeeded", Int32),
        Field::new(6, "failed", Int32),
        Field::new(7, "completedIndexes", Text),
        Field::new(9, "ready", Int32).pointer(),
        Field::new(10, "failedIndexes", Text).pointer(),
        Field::new(11, "terminating", Int32).pointer(),
    ],
);
