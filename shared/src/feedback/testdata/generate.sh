#!/usr/bin/env bash
# Regenerates the SNS fixtures in this folder: a throwaway self-signed
# certificate and messages signed with its key, the way SNS signs them.
# The private key lives in a temporary folder and is deleted at the end.
# Needs openssl and jq. Run from anywhere: bash generate.sh
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 36500 \
  -subj "/CN=sns.eu-central-1.amazonaws.com test-only, not an AWS certificate" \
  -keyout "$work/key.pem" -out signing-cert.pem 2>/dev/null

topic="arn:aws:sns:eu-central-1:111122223333:emma-ses-events"
cert_url="https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-00000000000000000000000000000000.pem"
unsubscribe_url="https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=$topic:8a1f6b2e-4c1d-4e7a-9a55-0d7c2f4b9e10"
ses_bounce=$(jq -c . ses-bounce.json)

sign() { # digest, then the string to sign on stdin
  openssl dgst "-$1" -sign "$work/key.pem" | base64 -w0
}

# Notification: Message, MessageId, Subject (only when present), Timestamp,
# TopicArn, Type, each as "Key\nvalue\n".
notification() { # file, version, digest, message id, timestamp, subject or ""
  local file=$1 version=$2 digest=$3 id=$4 ts=$5 subject=$6 signature
  if [ -n "$subject" ]; then
    signature=$(printf 'Message\n%s\nMessageId\n%s\nSubject\n%s\nTimestamp\n%s\nTopicArn\n%s\nType\n%s\n' \
      "$ses_bounce" "$id" "$subject" "$ts" "$topic" Notification | sign "$digest")
  else
    signature=$(printf 'Message\n%s\nMessageId\n%s\nTimestamp\n%s\nTopicArn\n%s\nType\n%s\n' \
      "$ses_bounce" "$id" "$ts" "$topic" Notification | sign "$digest")
  fi
  jq -n --arg id "$id" --arg topic "$topic" --arg subject "$subject" --arg message "$ses_bounce" \
    --arg ts "$ts" --arg version "$version" --arg signature "$signature" \
    --arg cert "$cert_url" --arg unsubscribe "$unsubscribe_url" '
    {Type: "Notification", MessageId: $id, TopicArn: $topic}
    + (if $subject == "" then {} else {Subject: $subject} end)
    + {Message: $message, Timestamp: $ts, SignatureVersion: $version,
       Signature: $signature, SigningCertURL: $cert, UnsubscribeURL: $unsubscribe}' > "$file"
}

notification notification-v1.json 1 sha1 4f1b7c2a-9d3e-5b6f-8a0c-1e2d3f4a5b6c \
  2026-03-02T10:15:30.123Z "Amazon SES Email Event Notification"
notification notification-v2.json 2 sha256 7c9e2d41-0b5a-5f3c-9e8d-2a1b3c4d5e6f \
  2026-03-02T10:15:31.456Z "Amazon SES Email Event Notification"
notification notification-v2-no-subject.json 2 sha256 0e5d8c3b-6a7f-5e21-b4c9-3d2e1f0a9b8c \
  2026-03-02T10:15:32.000Z ""

# SubscriptionConfirmation: Message, MessageId, SubscribeURL, Timestamp,
# Token, TopicArn, Type.
id=165545c9-2a5c-472c-8df2-7ff2be2b3b1b
ts=2026-03-01T09:00:00.000Z
token=2336412f37fb687f5d51e6e2425a8a587b2e9a1c0e54d6e7f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0
message=$(printf 'You have chosen to subscribe to the topic %s.\nTo confirm the subscription, visit the SubscribeURL included in this message.' "$topic")
subscribe_url="https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=$topic&Token=$token"
signature=$(printf 'Message\n%s\nMessageId\n%s\nSubscribeURL\n%s\nTimestamp\n%s\nToken\n%s\nTopicArn\n%s\nType\n%s\n' \
  "$message" "$id" "$subscribe_url" "$ts" "$token" "$topic" SubscriptionConfirmation | sign sha256)
jq -n --arg id "$id" --arg token "$token" --arg topic "$topic" --arg message "$message" \
  --arg url "$subscribe_url" --arg ts "$ts" --arg signature "$signature" --arg cert "$cert_url" '
  {Type: "SubscriptionConfirmation", MessageId: $id, Token: $token, TopicArn: $topic,
   Message: $message, SubscribeURL: $url, Timestamp: $ts, SignatureVersion: "2",
   Signature: $signature, SigningCertURL: $cert}' > subscription-confirmation-v2.json

# The same kind of notification as Lambda receives it from an SNS trigger
# (no Subject, so it is left out of the string to sign).
id=2b8f4e6a-1c3d-5a7b-9e0f-4d5c6b7a8e9f
ts=2026-03-02T10:16:00.789Z
signature=$(printf 'Message\n%s\nMessageId\n%s\nTimestamp\n%s\nTopicArn\n%s\nType\n%s\n' \
  "$ses_bounce" "$id" "$ts" "$topic" Notification | sign sha1)
jq -n --arg id "$id" --arg topic "$topic" --arg message "$ses_bounce" --arg ts "$ts" \
  --arg signature "$signature" --arg cert "$cert_url" --arg unsubscribe "$unsubscribe_url" '
  {Records: [{EventSource: "aws:sns", EventVersion: "1.0",
    EventSubscriptionArn: ($topic + ":5d1c9a7e-3b2f-4e6d-8c0a-9f8e7d6c5b4a"),
    Sns: {Type: "Notification", MessageId: $id, TopicArn: $topic, Subject: null,
      Message: $message, Timestamp: $ts, SignatureVersion: "1", Signature: $signature,
      SigningCertUrl: $cert, UnsubscribeUrl: $unsubscribe, MessageAttributes: {}}}]}' \
  > lambda-event-v1.json
