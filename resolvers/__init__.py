"""Strawberry types and resolvers: GraphQL in, a call to ``app``, GraphQL out."""
