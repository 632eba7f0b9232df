package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/rootaudit/rootaudit/report"
)

func newIntegrityCommand(g *globalOptions) *cobra.Command {
	var of outputFlags
	c := &cobra.Command{
		Use:   "integrity",
		Short: "Log-file integrity: what `ingest --validate` found in the digest files",
		Long: `Summarises CloudTrail log-file integrity validation (run ` + "`ingest --validate`" + ` first):
log files by status (valid, hash-mismatch, not-in-digest, digest-missing,
signature-invalid, not-validated) with the kept events they hold, digests by
signature and chain status, and every failure. Exits 1 when anything failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := openReport(cmd.Context(), g, of.format)
			if err != nil {
				return err
			}
			defer db.Close()
			in, err := db.Integrity(cmd.Context())
			if err != nil {
				return err
			}
			if err := render(g, of.format, of.out, report.Integrity{I: in}); err != nil {
				return err
			}
			if n := len(in.Failures); n > 0 {
				return findingsError{fmt.Sprintf("integrity: %d failure(s)", n)}
			}
			return nil
		},
	}
	of.addTo(c.Flags())
	return c
}
