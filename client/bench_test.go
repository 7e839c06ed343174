package client_test

import (
	"context"
	"log/slog"
	"strconv"
	"testing"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/client/clienttest"
	"github.com/redis/go-redis/v9"
)

// benchBatch is the commands per pipeline: half SET, half GET.
const benchBatch = 100

// BenchmarkPipeline compares this client's pipelines with go-redis v9's
// against the same fake in-memory node in the same run. Compare the
// cmds/s metrics of the two sub-benchmarks.
func BenchmarkPipeline(b *testing.B) {
	node := startNode(b, clienttest.NewStore())
	keys := make([]string, benchBatch/2)
	for i := range keys {
		keys[i] = "bench:" + strconv.Itoa(i)
	}
	ctx := context.Background()

	b.Run("client=kvorum", func(b *testing.B) {
		c := newClient(b, client.Options{Logger: slog.New(slog.DiscardHandler)}, node.Addr)
		p := c.Pipeline()
		b.ReportAllocs()
		for b.Loop() {
			for _, k := range keys {
				p.Do("SET", k, "value")
				p.Do("GET", k)
			}
			if _, err := p.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "cmds/s")
	})

	b.Run("client=go-redis", func(b *testing.B) {
		rdb := redis.NewClient(&redis.Options{Addr: node.Addr, Protocol: 2, DisableIdentity: true})
		defer rdb.Close()
		p := rdb.Pipeline()
		b.ReportAllocs()
		for b.Loop() {
			for _, k := range keys {
				p.Set(ctx, k, "value", 0)
				p.Get(ctx, k)
			}
			if _, err := p.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "cmds/s")
	})
}

// BenchmarkDo compares single commands (one round trip each) from
// parallel goroutines.
func BenchmarkDo(b *testing.B) {
	node := startNode(b, clienttest.NewStore())
	ctx := context.Background()
	b.Run("client=kvorum", func(b *testing.B) {
		c := newClient(b, client.Options{Logger: slog.New(slog.DiscardHandler)}, node.Addr)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Do(ctx, "SET", "k", "value"); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("client=go-redis", func(b *testing.B) {
		rdb := redis.NewClient(&redis.Options{Addr: node.Addr, Protocol: 2, DisableIdentity: true})
		defer rdb.Close()
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := rdb.Set(ctx, "k", "value", 0).Err(); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
