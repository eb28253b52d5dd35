//! `slipway start|approve|reject|retry|stop|transitions|get` (the `kubectl slipway` plugin) end
//! to end: the real binary, given a kubeconfig for the test cluster, against Pipelines and
//! PipelineExecutions — the objects and spec fields it writes, its output and exit codes, how it
//! decides again when an object changed under it, and `get execution --watch` following a run
//! to its end. No controller runs: the tests write an execution's status through the status
//! subresource, as the pipeline controller would.

mod support;

use kube::api::ListParams;
use serde_json::json;
use slipway_testcluster::Fault;
use support::pipeline::{
    NAMESPACE, change_after_the_read, control, create_pipeline, create_run, executions,
    hold_next_patch, managers, pipeline_spec, pipelines, set_status, waiting_for_approval,
};
use support::plugin::{
    KUBECONFIG_USER, Kubeconfig, finish, plugin, spawn_plugin, stderr, stdout, wait_for_request,
};
use support::rollout::cluster_with_crds;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_creates_an_owned_labelled_run_and_prints_its_name_alone() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "pipeline-start");
    let pipeline = create_pipeline(&cluster, pipeline_spec()).await;

    let started = plugin(
        &kubeconfig.path,
        &[
            "start",
            "web",
            "--var",
            "LOG_LEVEL=debug",
            "--revision",
            "3f9c2d7",
        ],
    )
    .await;
    assert!(started.status.success(), "{}", stderr(&started));
    let name = stdout(&started);
    let name = name.strip_suffix('\n').expect("one line");
    assert!(name.starts_with("web-") && !name.contains('\n'), "{name:?}");

    let run = executions(&cluster)
        .get(name)
        .await
        .expect("the run exists");
    let labels = run.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels.get("slipway.dev/pipeline").map(String::as_str),
        Some("web")
    );
    let owners = run.metadata.owner_references.clone().unwrap_or_default();
    assert_eq!(owners.len(), 1, "{owners:?}");
    assert_eq!(owners[0].kind, "Pipeline");
    assert_eq!(owners[0].name, "web");
    assert_eq!(Some(&owners[0].uid), pipeline.metadata.uid.as_ref());
    assert_eq!(owners[0].controller, Some(true));
    assert_eq!(owners[0].block_owner_deletion, Some(false));
    assert_eq!(
        json!({"pipelineRef": run.spec.pipeline_ref, "trigger": run.spec.trigger,
               "source": run.spec.source, "variables": run.spec.variables}),
        json!({
            "pipelineRef": {"name": "web"},
            "trigger": {"type": "StartPipelineExecution", "actor": KUBECONFIG_USER},
            "source": {"commitId": "3f9c2d7"},
            "variables": [{"name": "LOG_LEVEL", "value": "debug"}]
        })
    );
    assert!(
        managers(run.metadata.managed_fields.as_ref()).contains(&"kubectl-slipway".to_owned()),
        "{:?}",
        run.metadata.managed_fields
    );

    let branch = plugin(
        &kubeconfig.path,
        &["start", "web", "--revision", "release/2.0"],
    )
    .await;
    assert!(branch.status.success(), "{}", stderr(&branch));
    let run = executions(&cluster)
        .get(stdout(&branch).trim_end())
        .await
        .expect("the second run exists");
    assert_eq!(
        serde_json::to_value(run.spec.source).unwrap(),
        json!({"branchName": "release/2.0"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_refuses_a_missing_pipeline_and_undeclared_variables_creating_nothing() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "pipeline-start-refused");
    create_pipeline(&cluster, pipeline_spec()).await;

    let missing = plugin(&kubeconfig.path, &["start", "api", "-n", NAMESPACE]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        stderr(&missing),
        "error: Pipeline \"api\" not found in namespace \"default\": check the name and namespace \
         (-n) with `kubectl get pipe -n default`\n"
    );
    let undeclared = plugin(
        &kubeconfig.path,
        &["start", "web", "--var", "LOGLEVEL=debug"],
    )
    .await;
    assert_eq!(undeclared.status.code(), Some(1));
    assert_eq!(
        stderr(&undeclared),
        "error: Pipeline web declares no variable LOGLEVEL: it declares LOG_LEVEL, REGION\n"
    );
    assert!(stdout(&undeclared).is_empty());
    let runs = executions(&cluster)
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(runs.items.is_empty(), "no run was created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_answers_the_waiting_attempt_once_checked_against_the_runs_snapshot() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "pipeline-approve");
    // The live Pipeline has renamed the approval since the run started: the run's snapshot counts.
    let mut live = pipeline_spec();
    live["stages"][1]["actions"][0]["name"] = json!("Ship");
    create_pipeline(&cluster, live).await;
    create_run(&cluster, "web-run1", waiting_for_approval(2)).await;

    let approved = plugin(
        &kubeconfig.path,
        &[
            "approve",
            "web-run1",
            "--stage",
            "Approve",
            "--action",
            "Release",
            "--comment",
            "ok",
        ],
    )
    .await;
    assert!(approved.status.success(), "{}", stderr(&approved));
    assert_eq!(
        stdout(&approved),
        "approved Approve/Release (attempt 2) of web-run1: the run continues\n"
    );
    assert_eq!(
        control(&cluster, "web-run1").await,
        json!({"approvals": [{"stage": "Approve", "action": "Release", "attempt": 2,
                              "result": "Approved", "comment": "ok",
                              "approvedBy": KUBECONFIG_USER}]})
    );

    let again = plugin(
        &kubeconfig.path,
        &[
            "reject", "web-run1", "--stage", "Approve", "--action", "Release",
        ],
    )
    .await;
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        stderr(&again),
        format!(
            "error: approval Approve/Release of PipelineExecution web-run1 already has an answer \
             for attempt 2: Approved by {KUBECONFIG_USER}; an answer cannot be changed once given\n"
        )
    );
    let job = plugin(
        &kubeconfig.path,
        &[
            "approve", "web-run1", "--stage", "Approve", "--action", "Notify",
        ],
    )
    .await;
    assert_eq!(job.status.code(), Some(1));
    assert_eq!(
        stderr(&job),
        "error: action Approve/Notify of PipelineExecution web-run1 is a job action, not an \
         approval: only approval actions take an answer (stage Approve has Release)\n"
    );

    // Before a run has its snapshot, the live Pipeline names the stages and actions.
    create_run(&cluster, "web-run2", json!({"phase": "InProgress"})).await;
    let early = plugin(
        &kubeconfig.path,
        &[
            "approve", "web-run2", "--stage", "Approve", "--action", "Ship",
        ],
    )
    .await;
    assert_eq!(early.status.code(), Some(1));
    assert_eq!(
        stderr(&early),
        "error: approval Approve/Ship of PipelineExecution web-run2 is not waiting for an \
         answer: the run has not reached stage Approve\n"
    );
    let unknown = plugin(
        &kubeconfig.path,
        &[
            "approve", "web-run2", "--stage", "Approve", "--action", "Release",
        ],
    )
    .await;
    assert_eq!(
        stderr(&unknown),
        "error: stage Approve of PipelineExecution web-run2 has no action \"Release\": its \
         actions are Ship, Notify\n"
    );
    assert_eq!(
        control(&cluster, "web-run2").await,
        json!({}),
        "nothing was written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_asks_once_per_failure_of_a_stage() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "pipeline-retry");
    create_pipeline(&cluster, pipeline_spec()).await;
    let failed = |attempt: i32, applied: i32| {
        json!({"phase": "Failed", "pipelineSpec": pipeline_spec(), "stages": [
            {"name": "Build", "status": "Succeeded"},
            {"name": "Approve", "status": "Failed", "attempt": attempt,
             "retryRequestsApplied": applied}]})
    };
    create_run(&cluster, "web-run1", failed(1, 0)).await;

    let retried = plugin(
        &kubeconfig.path,
        &["retry", "web-run1", "--stage", "Approve"],
    )
    .await;
    assert!(retried.status.success(), "{}", stderr(&retried));
    assert_eq!(
        stdout(&retried),
        "retrying stage Approve of web-run1 (Failed): attempt 2 runs its failed actions again\n"
    );
    let pending = plugin(
        &kubeconfig.path,
        &["retry", "web-run1", "--stage", "Approve"],
    )
    .await;
    assert_eq!(pending.status.code(), Some(1));
    assert_eq!(
        stderr(&pending),
        "error: stage Approve of PipelineExecution web-run1 (Failed) already has a retry \
         request the controller has not applied yet (1 requested, 0 applied): wait for it to \
         start the next attempt (`kubectl slipway get pexec web-run1 --watch`)\n"
    );

    // The controller applied it; attempt 2 failed too.
    set_status(&cluster, "web-run1", failed(2, 1)).await;
    let all = plugin(
        &kubeconfig.path,
        &["retry", "web-run1", "--stage", "Approve", "--all-actions"],
    )
    .await;
    assert!(all.status.success(), "{}", stderr(&all));
    assert_eq!(
        control(&cluster, "web-run1").await,
        json!({"retries": [{"stage": "Approve", "mode": "FailedActions"},
                           {"stage": "Approve", "mode": "AllActions"}]})
    );
    let succeeded = plugin(&kubeconfig.path, &["retry", "web-run1", "--stage", "Build"]).await;
    assert_eq!(succeeded.status.code(), Some(1));
    assert_eq!(
        stderr(&succeeded),
        "error: stage Build of PipelineExecution web-run1 is Succeeded: only a Failed or \
         Stopped stage can be retried\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_is_written_once_and_only_escalates() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "pipeline-stop");
    create_pipeline(&cluster, pipeline_spec()).await;
    create_run(&cluster, "web-run1", json!({"phase": "InProgress"})).await;

    let stopped = plugin(
        &kubeconfig.path,
        &["stop", "web-run1", "--reason", "freeze"],
    )
    .await;
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    assert_eq!(
        stdout(&stopped),
        "stopping web-run1: running actions finish, then the run stops (--abandon stops them now)\n"
    );
    set_status(
        &cluster,
        "web-run1",
        json!({"phase": "Stopping", "message": "waiting for Build/Image"}),
    )
    .await;
    let repeat = plugin(&kubeconfig.path, &["stop", "web-run1"]).await;
    assert!(repeat.status.success(), "{}", stderr(&repeat));
    assert_eq!(
        stdout(&repeat),
        "web-run1 is already stopping, waiting for its running actions to finish; the controller \
         says: waiting for Build/Image\n"
    );
    let abandon = plugin(&kubeconfig.path, &["stop", "web-run1", "--abandon"]).await;
    assert!(abandon.status.success(), "{}", stderr(&abandon));
    assert_eq!(
        control(&cluster, "web-run1").await,
        json!({"stop": {"abandon": true, "reason": "freeze"}})
    );
    let back = plugin(&kubeconfig.path, &["stop", "web-run1"]).await;
    assert_eq!(back.status.code(), Some(1));
    assert_eq!(
        stderr(&back),
        "error: PipelineExecution web-run1 is already being stopped with --abandon: a stop \
         cannot go back to waiting for running actions (a stop only escalates from waiting to \
         abandoning)\n"
    );

    set_status(&cluster, "web-run1", json!({"phase": "Stopped"})).await;
    let ended = plugin(&kubeconfig.path, &["stop", "web-run1", "--abandon"]).await;
    assert_eq!(ended.status.code(), Some(1));
    assert!(
        stderr(&ended).starts_with(
            "error: PipelineExecution web-run1 has ended (Stopped): there is nothing left to stop"
        ),
        "{}",
        stderr(&ended)
    );
    let missing = plugin(&kubeconfig.path, &["stop", "web-run9"]).await;
    assert_eq!(
        stderr(&missing),
        "error: PipelineExecution \"web-run9\" not found in namespace \"default\": check the name \
         and namespace (-n) with `kubectl get pexec -n default`\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transitions_change_one_stage_and_leave_the_others_alone() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "pipeline-transitions");
    let before = create_pipeline(&cluster, pipeline_spec()).await;

    let no_reason = plugin(
        &kubeconfig.path,
        &["transitions", "disable", "web", "--stage", "Deploy"],
    )
    .await;
    assert_eq!(no_reason.status.code(), Some(1));
    assert_eq!(
        stderr(&no_reason),
        "error: disabling the transition into stage Deploy needs --reason: say why runs are held \
         (it is shown to whoever finds them waiting)\n"
    );
    let disabled = plugin(
        &kubeconfig.path,
        &[
            "transitions",
            "disable",
            "web",
            "--stage",
            "Deploy",
            "--reason",
            "incident 42",
        ],
    )
    .await;
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    assert_eq!(
        stdout(&disabled),
        "disabled the transition into stage Deploy of web: runs wait before it until `kubectl \
         slipway transitions enable web --stage Deploy`\n"
    );
    let after = pipelines(&cluster).get("web").await.unwrap();
    assert_eq!(
        serde_json::to_value(&after.spec.stages[2].transition).unwrap(),
        json!({"enabled": false, "disabledReason": "incident 42"})
    );
    let mut expected = before.spec.clone();
    expected.stages[2].transition = after.spec.stages[2].transition.clone();
    assert_eq!(after.spec, expected, "nothing else in the spec changed");
    assert!(
        managers(after.metadata.managed_fields.as_ref()).contains(&"kubectl-slipway".to_owned())
    );

    let enabled = plugin(
        &kubeconfig.path,
        &["transitions", "enable", "web", "--stage", "Deploy"],
    )
    .await;
    assert!(enabled.status.success(), "{}", stderr(&enabled));
    let after = pipelines(&cluster).get("web").await.unwrap();
    assert_eq!(
        serde_json::to_value(&after.spec.stages[2].transition).unwrap(),
        json!({"enabled": true})
    );
    let unknown = plugin(
        &kubeconfig.path,
        &[
            "transitions",
            "disable",
            "web",
            "--stage",
            "Prod",
            "--reason",
            "x",
        ],
    )
    .await;
    assert_eq!(
        stderr(&unknown),
        "error: Pipeline web has no stage \"Prod\": its stages are Build, Approve, Deploy\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_changed_between_read_and_write_is_read_and_decided_again() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "pipeline-conflict");
    create_pipeline(&cluster, pipeline_spec()).await;
    create_run(&cluster, "web-run1", json!({"phase": "InProgress"})).await;

    // A merge patch with the read resourceVersion answers 409, and the stop is written again.
    cluster.requests().clear();
    hold_next_patch(&cluster, "pipelineexecutions");
    let stopping = spawn_plugin(&kubeconfig.path, &["stop", "web-run1"]);
    change_after_the_read(
        &cluster,
        &executions(&cluster),
        "pipelineexecutions",
        "web-run1",
    )
    .await;
    let stopped = finish(stopping).await;
    assert!(stopped.status.success(), "{}", stderr(&stopped));
    let patches: Vec<u16> = cluster
        .requests()
        .matching(|record| record.verb == "patch" && record.resource == "pipelineexecutions")
        .iter()
        .map(|record| record.code)
        .collect();
    assert_eq!(patches, [409, 200]);
    let run = executions(&cluster).get("web-run1").await.unwrap();
    assert_eq!(run.metadata.labels.unwrap()["touched"], "yes");
    assert_eq!(
        serde_json::to_value(run.spec.control).unwrap(),
        json!({"stop": {"abandon": false}})
    );

    // A JSON patch whose resourceVersion test fails answers 422, and it is written again too.
    cluster.requests().clear();
    hold_next_patch(&cluster, "pipelines");
    let disabling = spawn_plugin(
        &kubeconfig.path,
        &[
            "transitions",
            "disable",
            "web",
            "--stage",
            "Build",
            "--reason",
            "freeze",
        ],
    );
    change_after_the_read(&cluster, &pipelines(&cluster), "pipelines", "web").await;
    let disabled = finish(disabling).await;
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    let patches: Vec<u16> = cluster
        .requests()
        .matching(|record| record.verb == "patch" && record.resource == "pipelines")
        .iter()
        .map(|record| record.code)
        .collect();
    assert_eq!(patches, [422, 200]);
    let pipeline = pipelines(&cluster).get("web").await.unwrap();
    assert_eq!(pipeline.metadata.labels.unwrap()["touched"], "yes");
    assert_eq!(
        pipeline.spec.stages[0]
            .transition
            .as_ref()
            .map(|transition| transition.enabled),
        Some(false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_that_keeps_changing_is_given_up_after_three_rereads() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "pipeline-conflicts");
    create_pipeline(&cluster, pipeline_spec()).await;
    create_run(&cluster, "web-run1", json!({"phase": "InProgress"})).await;
    cluster.requests().clear();
    cluster.faults().inject(
        Fault::error(409)
            .verb("patch")
            .resource("pipelineexecutions")
            .times(4),
    );
    let refused = plugin(&kubeconfig.path, &["stop", "web-run1"]).await;
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        stderr(&refused),
        "error: unable to write PipelineExecution web-run1: it changed between read and write 4 \
         times in a row (another client is writing it); try again\n"
    );
    assert_eq!(cluster.requests().count("patch", "pipelineexecutions"), 4);
    assert_eq!(control(&cluster, "web-run1").await, json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_shows_a_pipeline_and_a_run_waiting_for_its_approval() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "pipeline-get");
    create_pipeline(&cluster, pipeline_spec()).await;
    create_run(&cluster, "web-run1", waiting_for_approval(1)).await;

    let pipeline = plugin(&kubeconfig.path, &["get", "pipe", "web"]).await;
    assert!(pipeline.status.success(), "{}", stderr(&pipeline));
    let view = stdout(&pipeline);
    assert!(
        view.starts_with("Name:         web (namespace default)\n"),
        "{view}"
    );
    assert!(
        view.contains("Source:       git https://git.example.com/shop/web.git, branch main (polled every 5m)\n"),
        "{view}"
    );
    assert!(view.contains("    Release        approval   1\n"), "{view}");

    let run = plugin(&kubeconfig.path, &["get", "pexec", "web-run1"]).await;
    assert!(run.status.success(), "{}", stderr(&run));
    let view = stdout(&run);
    assert!(view.contains("Phase:        InProgress\n"), "{view}");
    assert!(
        view.ends_with(
            "Next:         approval Approve/Release waits for an answer: kubectl slipway approve \
             web-run1 --stage Approve --action Release -n default (or reject, with --comment)\n"
        ),
        "{view}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watched_run_exits_zero_when_it_succeeds_and_one_when_it_fails() {
    let (cluster, _simulation) = cluster_with_crds().await;
    let kubeconfig = Kubeconfig::for_cluster(&cluster, "pipeline-watch");
    create_pipeline(&cluster, pipeline_spec()).await;
    for (name, phase, code) in [("web-run1", "Succeeded", 0), ("web-run2", "Failed", 1)] {
        create_run(&cluster, name, waiting_for_approval(1)).await;
        cluster.requests().clear();
        let watching = spawn_plugin(
            &kubeconfig.path,
            &["get", "execution", name, "--watch", "--timeout", "60s"],
        );
        wait_for_request(&cluster, "the plugin's watch", |record| {
            record.verb == "watch" && record.resource == "pipelineexecutions"
        })
        .await;
        set_status(
            &cluster,
            name,
            json!({"phase": phase, "message": format!("the run {phase}"), "currentStage": "Deploy"}),
        )
        .await;
        let watched = finish(watching).await;
        assert_eq!(watched.status.code(), Some(code), "{}", stderr(&watched));
        let views = stdout(&watched);
        assert!(
            views.starts_with(&format!("Name:         {name} (namespace default)\n")),
            "{views}"
        );
        assert!(views.contains("\nPhase:        InProgress\n"), "{views}");
        assert!(
            views.contains(&format!("\nPhase:        {phase}\n")),
            "{views}"
        );
        if code == 1 {
            assert_eq!(
                stderr(&watched),
                format!("error: PipelineExecution {name} ended Failed: the run Failed\n")
            );
        }
    }
}

#[test]
fn installed_as_kubectl_slipway_the_help_names_the_plugin_and_the_identity_it_records() {
    let folder = support::Scratch::new("pipeline-plugin-name");
    let plugin = folder.0.join("kubectl-slipway");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_slipway"), &plugin).expect("link the plugin");
    let help = std::process::Command::new(&plugin)
        .args(["approve", "--help"])
        .output()
        .expect("run the plugin");
    assert!(help.status.success(), "{}", stderr(&help));
    let text = stdout(&help);
    assert!(
        text.contains(
            "Usage: kubectl slipway approve [OPTIONS] --stage <STAGE> --action <ACTION> <EXECUTION>"
        ),
        "{text}"
    );
    assert!(text.contains("self-reported"), "{text}");
}
