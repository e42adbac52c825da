package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/rs/zerolog"
	"io"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dropsync/dropsync/connectors/shopify"
	"github.com/dropsync/dropsync/internal/config"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/mapping"
	"github.com/dropsync/dropsync/internal/redisstore"
)

// openStore connects to the config's Redis for an operator command.
func openStore(ctx context.Context, cfg *config.Config) (*redisstore.Store, func(), error) {
	opt, err := redis.ParseURL(cfg.Redis.URL)
	if err != nil {
		return nil, nil, fmt.Errorf("redis.url: %w", err)
	}
	rdb := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, nil, fmt.Errorf("redis at %s is not reachable: %w", opt.Addr, err)
	}
	return redisstore.New(rdb, nil), func() { rdb.Close() }, nil
}

const mappingsUsage = `Usage:
  dropsync mappings import --shop DOMAIN [--config PATH] FILE   replace the shop's mappings with FILE (atomic)
  dropsync mappings export --shop DOMAIN [--config PATH] [FILE] write the shop's mappings as CSV (stdout without FILE)
`

// cmdMappings imports or exports a shop's supplier mappings, like PUT/GET of the admin API.
func cmdMappings(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "import" && args[0] != "export") {
		return usageError{"mappings needs import or export\n\n" + mappingsUsage}
	}
	verb := args[0]
	fs := flag.NewFlagSet("mappings "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	shop := fs.String("shop", "", "the shop's myshopify.com domain")
	if err := parseFlags(fs, interleaved(args[1:])); err != nil {
		return err
	}
	if *shop == "" {
		return usageError{"--shop is required\n\n" + mappingsUsage}
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	domain := strings.ToLower(*shop)
	if _, ok := cfg.Shop(domain); !ok {
		return fmt.Errorf("shop %s is not configured in %s", *shop, *path)
	}
	store, closeStore, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore()
	switch verb {
	case "import":
		if fs.NArg() != 1 {
			return usageError{"mappings import needs one FILE\n\n" + mappingsUsage}
		}
		data, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		rows, err := mapping.Parse(bytes.NewReader(data), func(id string) bool { _, ok := cfg.Supplier(id); return ok }, domain)
		if err != nil {
			return fmt.Errorf("%s: nothing was changed:\n%s", fs.Arg(0), problemsText(err))
		}
		v, err := store.ReplaceMappings(ctx, domain, rows)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "imported %d mapping rows for %s (version %d)\n", len(rows), domain, v)
		return nil
	default:
		rows, err := store.Mappings(ctx, domain)
		if err != nil {
			return err
		}
		if err := writeOutput(stdout, fs.Arg(0), func(w io.Writer) error { return mapping.Format(w, rows) }); err != nil {
			return err
		}
		if fs.NArg() == 1 {
			fmt.Fprintf(stdout, "exported %d mapping rows for %s to %s\n", len(rows), domain, fs.Arg(0))
		}
		return nil
	}
}

// writeOutput writes to the named file (created or truncated), or to stdout when name is "".
// A file that cannot be closed cleanly is an error: its end may be missing.
func writeOutput(stdout io.Writer, name string, write func(io.Writer) error) error {
	if name == "" {
		return write(stdout)
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// problemsText lists a mappings file's bad rows one per line.
func problemsText(err error) string {
	var probs *mapping.Problems
	if errors.As(err, &probs) {
		var b strings.Builder
		for _, p := range *probs {
			b.WriteString("  " + p.String() + "\n")
		}
		return strings.TrimRight(b.String(), "\n")
	}
	return dropsync.ErrorMessage(err)
}

// interleaved moves flags in front of positional arguments, so "import FILE --shop X" works.
func interleaved(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && a != "-" {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

const shopifyUsage = `Usage:
  dropsync shopify subscribe --shop DOMAIN --address https://HOST/webhooks/shopify [--config PATH]
      registers the webhook topics dropsync needs (idempotent) and lists what is registered
`

// cmdShopify registers dropsync's webhook topics for a shop.
func cmdShopify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "subscribe" {
		return usageError{"shopify needs a subcommand\n\n" + shopifyUsage}
	}
	fs := flag.NewFlagSet("shopify subscribe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := configFlag(fs)
	shop := fs.String("shop", "", "the shop's myshopify.com domain")
	address := fs.String("address", "", "the public HTTPS address of dropsync's /webhooks/shopify")
	if err := parseFlags(fs, interleaved(args[1:])); err != nil {
		return err
	}
	if *shop == "" || *address == "" {
		return usageError{"--shop and --address are required\n\n" + shopifyUsage}
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		return err
	}
	sc, ok := cfg.Shop(strings.ToLower(*shop))
	if !ok {
		return fmt.Errorf("shop %s is not configured in %s", *shop, *path)
	}
	store, closeStore, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeStore()
	lim := shopify.NewLimiter(store.Client(), map[string]shopify.BucketLimit{
		sc.Domain: {Size: sc.RateLimit.BucketSize, LeakRate: sc.RateLimit.LeakRate}}, 5*time.Second)
	client, err := shopify.NewClient([]shopify.ShopConfig{{Domain: sc.Domain, AccessToken: sc.AccessToken,
		APIVersion: sc.APIVersion, APIBaseURL: sc.APIBaseURL}}, lim, nil, nil, zerolog.Nop())
	if err != nil {
		return err
	}
	subs, created, err := client.Subscribe(ctx, sc.Domain, *address, shopify.APITopics)
	if err != nil {
		return err
	}
	if len(created) == 0 {
		fmt.Fprintf(stdout, "%s: every topic was already registered\n", sc.Domain)
	} else {
		fmt.Fprintf(stdout, "%s: registered %s\n", sc.Domain, strings.Join(created, ", "))
	}
	fmt.Fprintf(stdout, "webhooks of %s:\n", sc.Domain)
	for _, s := range subs {
		fmt.Fprintf(stdout, "  %-24s %s\n", s.Topic, s.Address)
	}
	fmt.Fprintln(stdout, "privacy topics (customers/data_request, customers/redact, shop/redact) are set in the app's "+
		"configuration, not through the API: point them at the same address.")
	return nil
}
