CREATE DATABASE IF NOT EXISTS `cloudtrail`
COMMENT 'CloudTrail tables queried by rootaudit'
