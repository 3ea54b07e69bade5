// Event: one CloudTrail record on its way from the decoder through the router to a sink.
#pragma once

#include <string>

namespace ctsqs {

/// One decoded CloudTrail record.
///
/// The decoder fills `record` and/or `columns` (which ones is a decoder option, so a sink that only
/// writes raw JSON does not pay for flattening) and the routing fields; the TagRouter fills `tag`.
struct Event {
  std::string tag;      ///< routing tag, e.g. "cloud.aws.cloudtrail.s3" (set by TagRouter)
  std::string record;   ///< the record as compact JSON, members in input order
  /// The flattened columns as the inside of a JSON object, without braces:
  /// `"eventVersion":"1.08","userIdentity_type":"IAMUser",...` (nested objects joined with `_`,
  /// arrays as compact JSON text in a string, scalars with their JSON type).
  std::string columns;
  // Routing fields picked out while decoding (empty when absent from the record).
  std::string event_source;        ///< `eventSource`, e.g. "s3.amazonaws.com"
  std::string event_type;          ///< `eventType`, e.g. "AwsApiCall", "AwsCloudTrailInsight"
  std::string recipient_account;   ///< `recipientAccountId`
  std::string aws_region;          ///< `awsRegion`
};

}  // namespace ctsqs
