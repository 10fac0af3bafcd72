//! The review queue grouped by cause (`/review?group=cause`): one row per
//! error code and reason with how many issues share it and how long the
//! oldest has waited, and for admins steps on the whole group. Every step
//! names the count in its question; the server acts only if the group still
//! has exactly the members listed.

use leptos::prelude::*;

use crate::rpc::answer::answer;

use crate::components::confirm::ConfirmButton;
use crate::components::hydrated::use_hydrated;
use crate::components::ignore_form::IgnoreForm;
use crate::error::AppError;
use crate::rpc::triage::{
    act_on_group, get_issue_groups, GroupConfirmed, GroupLine, GroupRequest, IgnoreLimit, QueueQuery, QueueShow,
    TriageOutcome,
};

type GroupAction = Action<(GroupConfirmed, GroupRequest), Result<TriageOutcome, AppError>>;

#[component]
pub fn IssueGroups(query: Memo<QueueQuery>, said: RwSignal<crate::components::outcome::Said>) -> impl IntoView {
    let act = Action::new(|(group, request): &(GroupConfirmed, GroupRequest)| {
        let (group, request) = (group.clone(), request.clone());
        async move { act_on_group(group, request).await }
    });
    Effect::new(move |_| {
        if let Some(done) = act.value().get() {
            said.set(Some(done.map(|d| d.message)));
        }
    });
    let groups = answer(move || (query.get(), act.version().get()), |(query, _)| get_issue_groups(query));
    view! {
        <Transition fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match groups.await {
                    Ok(found) if found.groups.is_empty() => view! {
                        <p class="empty" data-testid="empty">"Nothing to review here."</p>
                    }.into_any(),
                    Ok(found) => {
                        let (can_act, cap) = (found.can_act, found.cap);
                        let q = query.get_untracked();
                        view! {
                            <div class="table-wrap">
                                <table data-testid="issue-groups">
                                    <thead><tr>
                                        <th scope="col">"Cause"</th>
                                        <th scope="col">"Issues"</th>
                                        <th scope="col">"Oldest"</th>
                                        <th scope="col">"Actions"</th>
                                    </tr></thead>
                                    <tbody>
                                        {found.groups.into_iter().enumerate().map(|(n, line)| view! {
                                            <GroupRow n line query=q can_act cap act/>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any()
                    }
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn GroupRow(n: usize, line: GroupLine, query: QueueQuery, can_act: bool, cap: u64, act: GroupAction) -> impl IntoView {
    let count = line.count;
    let group = GroupConfirmed {
        code: line.code,
        reason: line.reason.clone(),
        outage: line.outage,
        query,
        members: line.members,
    };
    let issues = if count == 1 { "1 issue".to_owned() } else { format!("{count} issues") };
    let actions = match (can_act, count > cap) {
        (false, _) => None,
        (true, true) => Some(
            view! {
                <span class="muted small">
                    {format!("More than {cap}: narrow the filter (e.g. assigned to me) to act on the group.")}
                </span>
            }
            .into_any(),
        ),
        (true, false) => Some(view! { <GroupActions n group act/> }.into_any()),
    };
    view! {
        <tr data-testid=format!("group-{n}") data-code=line.code.as_str() data-count=count.to_string()>
            <td data-label="Cause">
                <code>{line.code.as_str()}</code>
                <div class="muted" data-testid=format!("group-{n}-cause")>{line.cause.clone()}</div>
            </td>
            <td data-label="Issues" class="nowrap" data-testid=format!("group-{n}-count")>{issues.clone()}</td>
            <td data-label="Oldest" class="nowrap">{line.age}</td>
            <td data-label="Actions" class="actions">{actions}</td>
        </tr>
    }
}

/// An admin's steps on a whole group, each asking with the exact count.
#[component]
fn GroupActions(n: usize, group: GroupConfirmed, act: GroupAction) -> impl IntoView {
    let pending = act.pending();
    let count = group.members.count;
    let all = if count == 1 { "the 1 issue".to_owned() } else { format!("all {count} issues") };
    let note = RwSignal::new(String::new());
    // As elsewhere: keep a note typed before the page hydrated.
    let note_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = note_input.get() {
            note.set(input.value());
        }
    });
    let note_id = format!("group-{n}-note");
    // Ignored issues are neither acknowledged nor ignored again: in that view
    // the group can only be brought back (or closed).
    let ignored_view = group.query.show == QueueShow::Ignored;
    let ignored_group = group.clone();
    let dispatch = move |request: GroupRequest| {
        let group = group.clone();
        move || {
            act.dispatch((group.clone(), request.clone()));
        }
    };
    let resolve = {
        let dispatch = dispatch.clone();
        move || dispatch(GroupRequest::MarkResolved { note: note.get_untracked() })()
    };
    // One confirmed step on the whole group: its label, question, class and testid suffix.
    let step = {
        let dispatch = dispatch.clone();
        move |label: &'static str, question: String, class: &'static str, name: &'static str, request| {
            view! {
                <ConfirmButton label question class testid=format!("group-{n}-{name}") disabled=pending
                    on_confirm=dispatch(request)/>
            }
        }
    };
    let acknowledge = (!ignored_view).then(|| {
        step("Acknowledge all", format!("Acknowledge {all} of this group?"), "", "ack", GroupRequest::Acknowledge)
    });
    let take =
        step("Assign all to me", format!("Take {all} of this group?"), "secondary", "take", GroupRequest::AssignToMe);
    let ignore = if ignored_view {
        let question = format!("Bring {all} of this group back into the queue?");
        step("Stop ignoring all", question, "secondary", "unignore", GroupRequest::StopIgnoring).into_any()
    } else {
        let on_ignore = Callback::new(move |(reason, limit): (String, IgnoreLimit)| {
            act.dispatch((ignored_group.clone(), GroupRequest::Ignore { reason, limit }));
        });
        // Until hydrated the form would submit as a plain GET: keep it shut.
        let hydrated = use_hydrated();
        let busy = Signal::derive(move || !hydrated.get() || pending.get());
        view! { <IgnoreForm prefix="group-ignore" key=n as i64 label="Ignore all" busy on_ignore/> }.into_any()
    };
    view! {
        {acknowledge}
        {take}
        {ignore}
        <label for=note_id.clone() class="visually-hidden">"Note for the whole group"</label>
        <input
            id=note_id.clone()
            type="text"
            placeholder="Note"
            data-testid=note_id
            node_ref=note_input
            on:input=move |ev| note.set(event_target_value(&ev))
        />
        <ConfirmButton
            label="Mark all resolved"
            question=format!("Close {all} of this group with your note?")
            testid=format!("group-{n}-resolve")
            disabled=Signal::derive(move || pending.get() || note.with(|n| n.trim().is_empty()))
            on_confirm=resolve
        />
    }
}
