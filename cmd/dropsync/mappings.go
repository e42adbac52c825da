package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/internal/config"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/mapping"
	"github.com/dropsync/dropsync/internal/redisstore"
)

// loadMappingsFile loads the merchant's mappings file at start. The file is read and checked
// whole first: a bad file changes nothing and stops the start with every bad line named. A
// good file replaces the mappings of each shop it names (shops it does not name keep theirs).
// A file whose content was already loaded is not loaded again, so a restart or a rolling
// upgrade does not undo what was changed since through the admin API or the CLI; editing the
// file makes it the source again at the next start.
func loadMappingsFile(ctx context.Context, store *redisstore.Store, cfg *config.Config, path string, log zerolog.Logger) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("mappings_file: %w", err)
	}
	rows, err := mapping.Parse(bytes.NewReader(data), func(id string) bool { _, ok := cfg.Supplier(id); return ok }, "")
	if err != nil {
		return fmt.Errorf("mappings_file %s: nothing was loaded:\n%s", path, problemsText(err))
	}
	byShop := map[string][]dropsync.Mapping{}
	var unknown []string
	for _, r := range rows {
		if _, ok := cfg.Shop(r.Shop); !ok {
			unknown = append(unknown, fmt.Sprintf("  line %d: shop: %s is not configured", r.Line, r.Shop))
			continue
		}
		byShop[r.Shop] = append(byShop[r.Shop], r)
	}
	if len(unknown) > 0 {
		return fmt.Errorf("mappings_file %s: nothing was loaded:\n%s", path, strings.Join(unknown, "\n"))
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	last, err := store.MappingsFileDigest(ctx)
	if err != nil {
		return err
	}
	if last == digest {
		log.Info().Str("file", path).Msg("mappings file unchanged since it was loaded; the stored mappings stay")
		return nil
	}
	shops := make([]string, 0, len(byShop))
	for shop := range byShop {
		shops = append(shops, shop)
	}
	sort.Strings(shops)
	for _, shop := range shops {
		v, err := store.ReplaceMappings(ctx, shop, byShop[shop])
		if err != nil {
			return fmt.Errorf("load mappings of %s: %w", shop, err)
		}
		log.Info().Str("shop", shop).Int("rows", len(byShop[shop])).Int64("version", v).Str("file", path).Msg("mappings loaded")
	}
	return store.SetMappingsFileDigest(ctx, digest, path)
}
