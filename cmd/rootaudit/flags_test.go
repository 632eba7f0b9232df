package main

import "testing"

// TestRegionName: every region code of every partition passes --region's
// check, and the misspellings that would silently read nothing do not.
func TestRegionName(t *testing.T) {
	for _, r := range []string{"us-east-1", "eu-central-2", "ap-southeast-7", "il-central-1", "mx-central-1", "ca-west-1",
		"us-gov-west-1", "cn-northwest-1", "us-iso-east-1", "us-isob-east-1", "eusc-de-east-1"} {
		if !regionName.MatchString(r) {
			t.Errorf("%s refused", r)
		}
	}
	for _, r := range []string{"US-EAST-1", "us-east1", "useast-1", "nowhere-1", "us-east-1 ", "us-east-", "*"} {
		if regionName.MatchString(r) {
			t.Errorf("%q accepted", r)
		}
	}
}
