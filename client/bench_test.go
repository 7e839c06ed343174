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

// benchVariants are this client's configurations benchmarked: with write
// sessions (the default: every SET travels as KVORUM.SEQ ..., and the fake
// node keeps its reply), and plain, as go-redis sends.
var benchVariants = []struct {
	name  string
	plain bool
}{{"client=kvorum", false}, {"client=kvorum-plain", true}}

// BenchmarkPipeline compares this client's pipelines with go-redis v9's
// against the same fake in-memory node in the same run. Compare the
// cmds/s metrics of the sub-benchmarks; client=kvorum-plain is the
// like-for-like one (the session's cost is mostly the fake node's).
func BenchmarkPipeline(b *testing.B) {
	node := startNode(b, clienttest.NewStore())
	keys := make([]string, benchBatch/2)
	for i := range keys {
		keys[i] = "bench:" + strconv.Itoa(i)
	}
	ctx := context.Background()

	for _, v := range benchVariants {
		b.Run(v.name, func(b *testing.B) {
			c := newClient(b, client.Options{Logger: slog.New(slog.DiscardHandler), DisableSessions: v.plain}, node.Addr)
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
	}

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
	for _, v := range benchVariants {
		b.Run(v.name, func(b *testing.B) {
			c := newClient(b, client.Options{Logger: slog.New(slog.DiscardHandler), DisableSessions: v.plain}, node.Addr)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.Do(ctx, "SET", "k", "value"); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
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
