package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/rootaudit/rootaudit/query"
	"github.com/rootaudit/rootaudit/report"
)

type inventoryOptions struct {
	windowFlags
	accounts     []string
	accountsFile string
	outputFlags
}

func newInventoryCommand(g *globalOptions) *cobra.Command {
	o := &inventoryOptions{}
	c := &cobra.Command{
		Use:   "inventory",
		Short: "Per account: human root sign-ins and API calls, with a verdict",
		Long: `Reports, per member account, every human root sign-in and root API call in
the window (classified as in docs/schema.md, view root_activity), with a
verdict: root-access-key-used, root-used, failed-signins-only, no-log-coverage
or no-root-use. Worst first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInventory(cmd.Context(), g, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.since, "since", "", "start of the window: date, time or duration ago (default 365d)")
	f.StringVar(&o.until, "until", "", "end of the window, exclusive (default now)")
	f.StringSliceVar(&o.accounts, "account", nil, "only these account IDs")
	f.StringVar(&o.accountsFile, "accounts", "", "`FILE` of aws organizations list-accounts JSON: adds names and accounts without logs")
	o.outputFlags.addTo(f)
	return c
}

func runInventory(ctx context.Context, g *globalOptions, o *inventoryOptions) error {
	win, err := o.window()
	if err != nil {
		return err
	}
	accts, err := parseAccounts("account", o.accounts)
	if err != nil {
		return err
	}
	org, err := readOrg(o.accountsFile)
	if err != nil {
		return err
	}
	db, err := openReport(ctx, g, o.format)
	if err != nil {
		return err
	}
	defer db.Close()
	inv, err := db.Inventory(ctx, query.Filter{Window: win, Accounts: accts}, org)
	if err != nil {
		return err
	}
	var r report.Report = report.Inventory{Inv: inv}
	if o.format == "table" || o.format == "" {
		r = report.InventoryTable{Inventory: report.Inventory{Inv: inv}}
	}
	return render(g, o.format, o.out, r)
}
