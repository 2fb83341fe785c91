// The JSON codec shared by Ferry's four kinds (VirtualMachine, VirtualMachineMigration,
// ServerGroup, MigrationPolicy): type meta, metadata, spec and status, with the decoded JSON
// kept in `raw` so fields Ferry does not know survive a read-modify-write.
#pragma once

#include <string>

#include "api/json_fields.h"
#include "api/meta.h"

namespace ferry::api {

enum class SpecPresence { kRequired, kOptional };

template <typename T>
StatusOr<T> DecodeKind(const Json& j, SpecPresence spec) {
  FERRY_RETURN_IF_ERROR(CheckTypeMeta(j, T::kApiVersion, T::kKind));
  T obj;
  FieldReader r(j, "");
  r.Object("metadata", &obj.metadata);
  if (spec == SpecPresence::kRequired) r.Require("spec");
  r.Object("spec", &obj.spec);
  r.Object("status", &obj.status);
  if (!r.status().ok()) return r.status().WithContext(std::string(T::kKind) + " " + obj.metadata.Key());
  obj.raw = j;
  return obj;
}

template <typename T>
Json EncodeKind(const T& obj, SpecPresence spec) {
  Json j = Base(obj.raw);
  j["apiVersion"] = T::kApiVersion;
  j["kind"] = T::kKind;
  j["metadata"] = Encode(obj.metadata);
  if (spec == SpecPresence::kRequired) {
    j["spec"] = Encode(obj.spec);
  } else {
    PutObject(j, "spec", obj.spec);
  }
  PutObject(j, "status", obj.status);
  return j;
}

}  // namespace ferry::api
