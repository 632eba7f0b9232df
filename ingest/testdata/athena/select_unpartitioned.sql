-- rootaudit: root, AssumeRoot and organization-switch records, event time 2026-05-13..2026-05-16
SELECT
      "eventversion" AS "eventversion"
    , json_format(CAST("useridentity" AS JSON)) AS "useridentity"
    , "eventtime" AS "eventtime"
    , "eventsource" AS "eventsource"
    , "eventname" AS "eventname"
    , "awsregion" AS "awsregion"
    , "sourceipaddress" AS "sourceipaddress"
    , "useragent" AS "useragent"
    , "errorcode" AS "errorcode"
    , "errormessage" AS "errormessage"
    , "requestparameters" AS "requestparameters"
    , "responseelements" AS "responseelements"
    , "additionaleventdata" AS "additionaleventdata"
    , "requestid" AS "requestid"
    , "eventid" AS "eventid"
    , CAST("readonly" AS VARCHAR) AS "readonly"
    , "eventtype" AS "eventtype"
    , "recipientaccountid" AS "recipientaccountid"
FROM "cloudtrail"."cloudtrail_logs"
WHERE eventtime >= '2026-05-13T00:00:00Z' AND eventtime < '2026-05-16T00:00:00Z'
  AND (
        useridentity.type = 'Root'
     OR (eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRoot')
     OR (eventsource = 'iam.amazonaws.com' AND eventname IN ('DisableOrganizationsRootCredentialsManagement', 'DisableOrganizationsRootSessions', 'EnableOrganizationsRootCredentialsManagement', 'EnableOrganizationsRootSessions'))
     OR (eventsource = 'organizations.amazonaws.com' AND eventname IN ('DisableAWSServiceAccess', 'EnableAWSServiceAccess'))
  )
