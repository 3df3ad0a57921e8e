//! Dependency graphs of steps and of recovery actions: cycle detection and
//! the critical path.

use std::time::Duration;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

/// A graph whose nodes are indices `0..len` and whose edges run from a
/// dependency to the node that waits for it.
pub struct DependencyGraph {
    graph: DiGraph<usize, ()>,
}

impl DependencyGraph {
    /// Builds a graph of `len` nodes with edges `(dependency, dependant)`.
    pub fn new(len: usize, edges: &[(usize, usize)]) -> Self {
        let mut graph = DiGraph::with_capacity(len, edges.len());
        for index in 0..len {
            graph.add_node(index);
        }
        for &(from, to) in edges {
            graph.add_edge(NodeIndex::new(from), NodeIndex::new(to), ());
        }
        DependencyGraph { graph }
    }

    /// Finds one cycle, as the nodes along it with the first repeated last.
    pub fn find_cycle(&self) -> Option<Vec<usize>> {
        let component = tarjan_scc(&self.graph).into_iter().find(|component| {
            component.len() > 1 || self.graph.contains_edge(component[0], component[0])
        })?;

        // Walk inside the strongly connected component until a node repeats;
        // every node of the component has a successor inside it.
        let mut path = vec![component[0]];
        loop {
            let current = *path.last().unwrap();
            let next = self
                .graph
                .neighbors(current)
                .find(|next| component.contains(next))
                .expect("a node of a cycle has a successor in it");
            if let Some(start) = path.iter().position(|node| *node == next) {
                let mut cycle: Vec<usize> = path[start..].iter().map(|node| node.index()).collect();
                cycle.push(next.index());
                return Some(cycle);
            }
            path.push(next);
        }
    }

    /// Computes the longest chain of `weights` through the graph: its total and
    /// its nodes in order. Returns `None` when the graph has a cycle.
    pub fn longest_path(&self, weights: &[Duration]) -> Option<(Duration, Vec<usize>)> {
        let order = toposort(&self.graph, None).ok()?;
        let mut finish = vec![Duration::ZERO; weights.len()];
        let mut previous: Vec<Option<usize>> = vec![None; weights.len()];
        for node in order {
            let index = node.index();
            let ready = self
                .graph
                .neighbors_directed(node, petgraph::Direction::Incoming)
                .map(|dependency| (finish[dependency.index()], dependency.index()))
                .max();
            if let Some((start, dependency)) = ready {
                previous[index] = Some(dependency);
                finish[index] = start + weights[index];
            } else {
                finish[index] = weights[index];
            }
        }

        let (end, last) = finish.iter().enumerate().map(|(i, d)| (*d, i)).max()?;
        let mut path = vec![last];
        while let Some(before) = previous[*path.last().unwrap()] {
            path.push(before);
        }
        path.reverse();
        Some((end, path))
    }
}

/// Computes the critical path of a recovery plan: the slowest chain of
/// actions, each counted at its timeout times its attempts.
pub fn critical_path(plan: &crate::model::RecoveryPlan) -> (Duration, Vec<String>) {
    let index_of = |name: &str| {
        plan.actions
            .iter()
            .position(|action| action.name == name)
            .unwrap_or(0)
    };
    let mut edges = Vec::new();
    for (index, action) in plan.actions.iter().enumerate() {
        edges.extend(
            action
                .depends_on
                .iter()
                .map(|dependency| (index_of(dependency), index)),
        );
    }
    let weights: Vec<Duration> = plan
        .actions
        .iter()
        .map(|action| action.timeout * (action.retries + 1))
        .collect();
    let graph = DependencyGraph::new(plan.actions.len(), &edges);
    match graph.longest_path(&weights) {
        Some((total, path)) => (
            total,
            path.into_iter()
                .map(|index| plan.actions[index].name.clone())
                .collect(),
        ),
        None => (Duration::ZERO, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycle_found_as_path() {
        let graph = DependencyGraph::new(3, &[(0, 1), (1, 2), (2, 0)]);
        let cycle = graph.find_cycle().unwrap();
        assert_eq!(cycle.len(), 4);
        assert_eq!(cycle.first(), cycle.last());
    }

    #[test]
    fn self_loop_is_cycle() {
        let graph = DependencyGraph::new(2, &[(1, 1)]);
        assert_eq!(graph.find_cycle(), Some(vec![1, 1]));
    }

    #[test]
    fn longest_path_follows_slowest_chain() {
        let second = Duration::from_secs(1);
        let graph = DependencyGraph::new(4, &[(0, 1), (0, 2), (2, 3)]);
        let (total, path) = graph
            .longest_path(&[second, 5 * second, second, second])
            .unwrap();
        assert_eq!(total, 6 * second);
        assert_eq!(path, vec![0, 1]);
    }
}
