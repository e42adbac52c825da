package main

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/internal/config"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/mapping"
	"github.com/dropsync/dropsync/internal/redisstore"
)

// loadMappingsFile replaces the mappings of every configured shop with the rows the file
// holds for it (a shop the file does not name gets none). A bad file changes nothing and
// stops the start with every bad line named.
func loadMappingsFile(ctx context.Context, store *redisstore.Store, cfg *config.Config, path string, log zerolog.Logger) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("mappings_file: %w", err)
	}
	defer f.Close()
	rows, err := mapping.Parse(f, func(id string) bool { _, ok := cfg.Supplier(id); return ok }, "")
	if err != nil {
		return fmt.Errorf("mappings_file %s: %s", path, dropsync.ErrorMessage(err))
	}
	byShop := map[string][]dropsync.Mapping{}
	for _, r := range rows {
		if _, ok := cfg.Shop(r.Shop); !ok {
			return fmt.Errorf("mappings_file %s: line %d: shop %s is not configured", path, r.Line, r.Shop)
		}
		byShop[r.Shop] = append(byShop[r.Shop], r)
	}
	shops := make([]string, 0, len(cfg.Shops))
	for _, s := range cfg.Shops {
		shops = append(shops, s.Domain)
	}
	sort.Strings(shops)
	for _, shop := range shops {
		v, err := store.ReplaceMappings(ctx, shop, byShop[shop])
		if err != nil {
			return fmt.Errorf("load mappings of %s: %w", shop, err)
		}
		log.Info().Str("shop", shop).Int("rows", len(byShop[shop])).Int64("version", v).Str("file", path).Msg("mappings loaded")
	}
	return nil
}
