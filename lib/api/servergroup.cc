#include "api/servergroup.h"

#include "api/kind_codec.h"

namespace ferry::api {

Status Decode(const Json& j, const std::string& path, ServerGroupSpec* out) {
  FieldReader r(j, path);
  r.Require("policy");
  r.Enum("policy", &out->policy);
  r.Bool("bestEffort", &out->best_effort);
  r.Int("maxPerNode", &out->max_per_node);
  if (r.status().ok() && out->max_per_node < 1) r.Fail("maxPerNode", "must be at least 1");
  out->raw = j;
  return r.status();
}

Json Encode(const ServerGroupSpec& v) {
  Json j = Base(v.raw);
  PutEnum(j, "policy", v.policy);
  PutBool(j, "bestEffort", v.best_effort);
  // 1 is the default; write it only when it differs or was written explicitly.
  if (v.max_per_node != 1 || j.contains("maxPerNode")) j["maxPerNode"] = v.max_per_node;
  return j;
}

Status Decode(const Json& j, const std::string& path, ServerGroupMember* out) {
  FieldReader r(j, path);
  r.Require("name");
  r.String("name", &out->name);
  r.String("node", &out->node);
  out->raw = j;
  return r.status();
}

Json Encode(const ServerGroupMember& v) {
  Json j = Base(v.raw);
  PutString(j, "name", v.name);
  PutString(j, "node", v.node);
  return j;
}

Status Decode(const Json& j, const std::string& path, ServerGroupStatus* out) {
  FieldReader r(j, path);
  r.List("members", &out->members);
  r.Bool("compliant", &out->compliant);
  r.StrList("violations", &out->violations);
  r.Int("observedGeneration", &out->observed_generation);
  r.List("conditions", &out->conditions);
  out->raw = j;
  return r.status();
}

Json Encode(const ServerGroupStatus& v) {
  Json j = Base(v.raw);
  PutList(j, "members", v.members);
  PutBool(j, "compliant", v.compliant);
  PutStrList(j, "violations", v.violations);
  PutInt(j, "observedGeneration", v.observed_generation);
  PutList(j, "conditions", v.conditions);
  return j;
}

StatusOr<ServerGroup> ServerGroup::FromJson(const Json& j) { return DecodeKind<ServerGroup>(j, SpecPresence::kRequired); }

Json ServerGroup::ToJson() const { return EncodeKind(*this, SpecPresence::kRequired); }

}  // namespace ferry::api
