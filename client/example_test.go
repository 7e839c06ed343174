package client_test

import (
	"context"
	"fmt"

	"github.com/kvorum/kvorum/client"
	"github.com/kvorum/kvorum/client/clienttest"
)

// fakeCluster starts a fake leader and a follower that redirects to it, and
// returns the follower's address and a function that stops both.
func fakeCluster() (followerAddr string, stop func()) {
	leader, err := clienttest.Start(clienttest.NewStore())
	if err != nil {
		panic(err)
	}
	follower, err := clienttest.Start(clienttest.Follower(leader.Addr))
	if err != nil {
		panic(err)
	}
	return follower.Addr, func() { follower.Close(); leader.Close() }
}

func ExampleClient_Do() {
	addr, stop := fakeCluster()
	defer stop()

	c, err := client.New(client.Options{Addrs: []string{addr}}) // a follower: redirected to the leader
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()

	n, err := c.Do(ctx, "MSET", "k1", "v1", "k2", []any{"v2-0", 1, "v2-2"}, "k3", "v3")
	fmt.Println(n, err)
	v, err := c.Do(ctx, "GET", "k2")
	fmt.Println(v, err)
	fmt.Printf("%#v\n", client.ToGo(v))
	_, err = c.Do(ctx, "NOSUCH")
	fmt.Println(err)
	// Output:
	// 3 <nil>
	// ["v2-0", 1, "v2-2"] <nil>
	// []interface {}{"v2-0", 1, "v2-2"}
	// ERR unknown command 'NOSUCH'
}

func ExampleClient_Set() {
	addr, stop := fakeCluster()
	defer stop()

	c, err := client.New(client.Options{Addrs: []string{addr}})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()

	err = c.Set(ctx, "kx", map[string]any{"vx": map[string]any{"vy": 0, "vz": []any{1, 2, 3}}})
	fmt.Println(err)
	v, err := c.Get(ctx, "kx")
	fmt.Println(v, err)
	missing, err := c.Get(ctx, "nope")
	fmt.Println(missing, err)
	// Output:
	// <nil>
	// map[vx:map[vy:0 vz:[1 2 3]]] <nil>
	// <nil> <nil>
}

func ExamplePipeline() {
	addr, stop := fakeCluster()
	defer stop()

	c, err := client.New(client.Options{Addrs: []string{addr}})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	p := c.Pipeline()
	p.Do("SET", "a", "1")
	p.Do("INCR", "a")
	p.Do("MGET", "a", "b")
	vals, err := p.Exec(context.Background()) // one round trip (plus one to follow the redirect)
	fmt.Println(vals, err)
	// Output:
	// [1 2 [2, nil]] <nil>
}
