"""The JSON shapes of SPEC §3, §6 and §9, written once for every test that checks them."""

TASK_SYNC_FIELDS = frozenset(
    {
        "id",
        "project_id",
        "parent_id",
        "name",
        "description",
        "start_date",
        "finish_date",
        "is_milestone",
        "is_summary",
        "assignee_ids",
        "position",
        "state",
        "done_at",
        "state_source",
        "created_at",
        "updated_at",
    }
)
# A task in the task API also carries its link roll-up and attention codes (SPEC §16); the sync
# delta leaves both out.
TASK_FIELDS = TASK_SYNC_FIELDS | {"external_link_summary", "attention"}
LINK_FIELDS = frozenset(
    {
        "id",
        "task_id",
        "url",
        "provider",
        "title",
        "custom_title",
        "display_title",
        "labels",
        "status",
        "fetched_at",
        "refresh_error",
        "description",
        "thumbnail_url",
        "preview_type",
        "checks",
        "review",
        "source",
        "closes",
        "position",
        "created_at",
        "updated_at",
    }
)
