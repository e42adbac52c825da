package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/dropsync/dropsync/internal/invoice"
)

const invoicesUsage = `Usage:
  dropsync invoices export --from YYYY-MM-DD --to YYYY-MM-DD [--config PATH] [FILE]
      writes every invoice and credit note issued in [from, to] (UTC days, inclusive) as CSV
      for the accountant (stdout without FILE)
`

// cmdInvoices exports issued invoices and credit notes as CSV.
func cmdInvoices(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return usageError{"invoices needs a subcommand\n\n" + invoicesUsage}
	}
	fs := flag.NewFlagSet("invoices export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	from := fs.String("from", "", "first day, YYYY-MM-DD (UTC)")
	to := fs.String("to", "", "last day, YYYY-MM-DD (UTC)")
	if err := parseFlags(fs, interleaved(args[1:])); err != nil {
		return err
	}
	start, err1 := time.Parse(time.DateOnly, *from)
	end, err2 := time.Parse(time.DateOnly, *to)
	if err1 != nil || err2 != nil || end.Before(start) {
		return usageError{"--from and --to must be dates YYYY-MM-DD with from <= to\n\n" + invoicesUsage}
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	store, closeStore, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore()
	// The last day is inclusive: up to the next midnight.
	invs, err := store.Invoices(ctx, start.UTC(), end.UTC().Add(24*time.Hour-time.Nanosecond))
	if err != nil {
		return err
	}
	if err := writeOutput(stdout, fs.Arg(0), func(w io.Writer) error { return invoice.WriteCSV(w, invs) }); err != nil {
		return err
	}
	if fs.NArg() == 1 {
		fmt.Fprintf(stdout, "exported %d documents issued %s to %s to %s\n", len(invs), *from, *to, fs.Arg(0))
	}
	return nil
}
