-- rootaudit: root, AssumeRoot and organization-switch records, delivery day 2026-05-14
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
    , "readonly" AS "readonly"
    , json_format(CAST("resources" AS JSON)) AS "resources"
    , "eventtype" AS "eventtype"
    , "apiversion" AS "apiversion"
    , "managementevent" AS "managementevent"
    , "recipientaccountid" AS "recipientaccountid"
    , "serviceeventdetails" AS "serviceeventdetails"
    , "sharedeventid" AS "sharedeventid"
    , "vpcendpointid" AS "vpcendpointid"
    , "vpcendpointaccountid" AS "vpcendpointaccountid"
    , "eventcategory" AS "eventcategory"
    , json_format(CAST("addendum" AS JSON)) AS "addendum"
    , "sessioncredentialfromconsole" AS "sessioncredentialfromconsole"
    , "edgedevicedetails" AS "edgedevicedetails"
    , json_format(CAST("tlsdetails" AS JSON)) AS "tlsdetails"
FROM "cloudtrail"."org_trail"
WHERE "timestamp" = '2026/05/14'
  AND "account" IN ('111111111111', '222222222222')
  AND "region" IN ('eu-west-1', 'us-east-1')
  AND (
        useridentity.type = 'Root'
     OR (eventsource = 'sts.amazonaws.com' AND eventname = 'AssumeRoot')
     OR (eventsource = 'iam.amazonaws.com' AND eventname IN ('DisableOrganizationsRootCredentialsManagement', 'DisableOrganizationsRootSessions', 'EnableOrganizationsRootCredentialsManagement', 'EnableOrganizationsRootSessions'))
     OR (eventsource = 'organizations.amazonaws.com' AND eventname IN ('DisableAWSServiceAccess', 'EnableAWSServiceAccess'))
  )
