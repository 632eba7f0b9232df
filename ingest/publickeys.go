package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
)

// FetchPublicKeys asks CloudTrail (ListPublicKeys) for the digest-signing
// public keys valid between from and to (UTC), following every page. The
// caller needs cloudtrail:ListPublicKeys.
func FetchPublicKeys(ctx context.Context, cfg aws.Config, from, to time.Time) (PublicKeys, error) {
	client := cloudtrail.NewFromConfig(cfg)
	in := &cloudtrail.ListPublicKeysInput{}
	if !from.IsZero() {
		in.StartTime = aws.Time(from)
	}
	if !to.IsZero() {
		in.EndTime = aws.Time(to)
	}
	keys := PublicKeys{}
	p := cloudtrail.NewListPublicKeysPaginator(client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("cloudtrail ListPublicKeys (needs cloudtrail:ListPublicKeys; or pass --public-keys FILE from `aws cloudtrail list-public-keys`): %w", err)
		}
		for _, k := range page.PublicKeyList {
			if err := keys.Add(aws.ToString(k.Fingerprint), k.Value, aws.ToTime(k.ValidityStartTime), aws.ToTime(k.ValidityEndTime)); err != nil {
				return nil, fmt.Errorf("cloudtrail ListPublicKeys: %w", err)
			}
		}
	}
	return keys, nil
}
