// plan_notification: an SQS message body -> what the pipeline does with it (objects, inline
// records, quiet acknowledgement).
#include "ctsqs/collector/collector.hpp"

#include "ctsqs/collector/notification.hpp"
#include "detail/protocol_util.hpp"

namespace ctsqs {

namespace {

result<MessagePlan> make_plan(const SqsMessage& message, const NotificationAllowList& allow, Diagnostics& diag) {
  auto n = parse_notification(message.body, diag);
  if (!n) return n.error();
  if (auto a = check_allowed(*n, allow, diag); !a) return a.error();
  MessagePlan plan;
  if (n->is_test_event()) {
    plan.kind = MessagePlan::Kind::test_event;
    plan.note = std::string(to_string(n->format));
    return plan;
  }
  if (!n->inline_records.empty()) {
    plan.kind = MessagePlan::Kind::inline_records;
    plan.inline_records = std::move(n->inline_records);
    plan.inline_source = std::move(n->inline_source);
    return plan;
  }
  if (!n->objects.empty()) {
    plan.kind = MessagePlan::Kind::objects;
    for (auto& o : n->objects)
      plan.objects.push_back(ObjectRef{std::move(o.bucket), std::move(o.key), std::move(o.region), o.size.value_or(0),
                                       std::move(o.etag), std::move(o.version_id)});
    return plan;
  }
  plan.kind = MessagePlan::Kind::nothing;
  for (auto& i : n->ignored) {
    if (!plan.note.empty()) plan.note += "; ";
    plan.note += detail::quote_start(i.event_name, 64) + ": " + i.reason;
  }
  return plan;
}

}  // namespace

result<MessagePlan> plan_notification(const SqsMessage& message, Diagnostics& diag) {
  static const NotificationAllowList none;  // still the aws.* rule for "via CloudTrail" events
  return make_plan(message, none, diag);
}

MessagePlanner make_notification_planner(NotificationAllowList allow) {
  return [allow = std::move(allow)](const SqsMessage& message, Diagnostics& diag) {
    return make_plan(message, allow, diag);
  };
}

}  // namespace ctsqs
