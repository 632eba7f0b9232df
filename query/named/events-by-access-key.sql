-- name: events-by-access-key
-- description: Every stored event made with, issuing, or naming one access key (AKIA… or ASIA…), in time order.
-- param: key VARCHAR required -- the access key ID
-- param: since TIMESTAMP default NULL -- start of the window (inclusive, UTC); NULL for no start
-- param: until TIMESTAMP default NULL -- end of the window (exclusive, UTC); NULL for no end
--
-- relation is used (userIdentity.accessKeyId is the key), issued (an
-- AssumeRoot call returned it) or named (a request parameter
-- accessKeyId names it: CreateAccessKey's answer, UpdateAccessKey,
-- DeleteAccessKey, GetAccessKeyLastUsed…).
SELECT * FROM (
    SELECT
        event_time,
        CASE
            WHEN access_key_id = $key THEN 'used'
            WHEN issued_key_id = $key THEN 'issued'
            ELSE 'named'
        END AS relation,
        recipient_account_id AS account_id,
        identity_type,
        identity_arn,
        event_source,
        event_name,
        aws_region,
        error_code,
        source_ip,
        user_agent,
        event_id
    FROM events
    WHERE access_key_id = $key
       OR issued_key_id = $key
       OR json_extract_string(raw, '$.requestParameters.accessKeyId') = $key
       OR json_extract_string(raw, '$.responseElements.accessKey.accessKeyId') = $key
)
WHERE ($since IS NULL OR event_time >= CAST($since AS TIMESTAMP))
  AND ($until IS NULL OR event_time < CAST($until AS TIMESTAMP))
ORDER BY event_time, event_id;
