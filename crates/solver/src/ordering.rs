//! Level-set nested dissection (George 1973) for the nodal matrix: split a
//! connected piece by the middle BFS level from a pseudo-peripheral vertex,
//! order both halves recursively and the separator last. faer 0.24 offers
//! AMD only; this is the alternative measured against it (see
//! [`crate::Ordering`]).

/// The symmetric adjacency of an upper (or lower) pattern without its
/// diagonal, CSR: (ptr, adj) with the neighbours of v in
/// `adj[ptr[v]..ptr[v + 1]]`, each stored as `index(neighbour)`.
fn symmetric_adjacency<T: Copy + Default>(
    n: usize,
    col_ptr: &[usize],
    row_idx: &[usize],
    index: impl Fn(usize) -> T,
) -> (Vec<usize>, Vec<T>) {
    let mut ptr = vec![0usize; n + 1];
    for j in 0..n {
        for &i in &row_idx[col_ptr[j]..col_ptr[j + 1]] {
            if i != j {
                ptr[i + 1] += 1;
                ptr[j + 1] += 1;
            }
        }
    }
    for v in 0..n {
        ptr[v + 1] += ptr[v];
    }
    let mut fill = ptr.clone();
    let mut adj = vec![T::default(); ptr[n]];
    for j in 0..n {
        for &i in &row_idx[col_ptr[j]..col_ptr[j + 1]] {
            if i != j {
                adj[fill[i]] = index(j);
                fill[i] += 1;
                adj[fill[j]] = index(i);
                fill[j] += 1;
            }
        }
    }
    (ptr, adj)
}

/// Returns (fwd, inv): fwd[new] = old, inv[old] = new.
pub(crate) fn nested_dissection(
    n: usize,
    col_ptr: &[usize],
    row_idx: &[usize],
) -> (Vec<usize>, Vec<usize>) {
    let (ptr, adj) = symmetric_adjacency(n, col_ptr, row_idx, |v| v);

    enum Task {
        Split(Vec<usize>),
        Emit(Vec<usize>),
    }
    let mut owner = vec![0u32; n];
    let mut level = vec![u32::MAX; n];
    let mut stamp = 0u32;
    let mut fwd = Vec::with_capacity(n);
    let mut tasks = vec![Task::Split((0..n).collect())];
    let mut queue = Vec::new();
    while let Some(task) = tasks.pop() {
        let verts = match task {
            Task::Emit(v) => {
                fwd.extend(v);
                continue;
            }
            Task::Split(v) => v,
        };
        if verts.len() <= 64 {
            fwd.extend(verts);
            continue;
        }
        stamp += 1;
        for &v in &verts {
            owner[v] = stamp;
        }
        // BFS restricted to this piece; returns the last vertex reached.
        let bfs = |start: usize, queue: &mut Vec<usize>, level: &mut [u32]| {
            for &v in &verts {
                level[v] = u32::MAX;
            }
            queue.clear();
            queue.push(start);
            level[start] = 0;
            let mut head = 0;
            while head < queue.len() {
                let v = queue[head];
                head += 1;
                for &w in &adj[ptr[v]..ptr[v + 1]] {
                    if owner[w] == stamp && level[w] == u32::MAX {
                        level[w] = level[v] + 1;
                        queue.push(w);
                    }
                }
            }
            queue[queue.len() - 1]
        };
        let far = bfs(verts[0], &mut queue, &mut level);
        let far2 = bfs(far, &mut queue, &mut level);
        let depth = level[far2] as usize;
        let reached = queue.len();
        if depth < 2 {
            // A clique-like piece: nothing to dissect.
            fwd.extend(verts);
            continue;
        }
        let mut count = vec![0usize; depth + 1];
        for &v in &queue {
            count[level[v] as usize] += 1;
        }
        let mut acc = 0;
        let mut mid = 1;
        for (l, &c) in count.iter().enumerate() {
            acc += c;
            if acc * 2 >= reached {
                mid = l.clamp(1, depth - 1);
                break;
            }
        }
        let (mut a, mut b, mut sep, mut rest) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for &v in &verts {
            match level[v] {
                u32::MAX => rest.push(v),
                l if (l as usize) < mid => a.push(v),
                l if (l as usize) == mid => sep.push(v),
                _ => b.push(v),
            }
        }
        if !rest.is_empty() {
            tasks.push(Task::Split(rest));
        }
        tasks.push(Task::Emit(sep));
        tasks.push(Task::Split(b));
        tasks.push(Task::Split(a));
    }
    let mut inv = vec![0usize; n];
    for (new, &old) in fwd.iter().enumerate() {
        inv[old] = new;
    }
    (fwd, inv)
}

/// METIS 5's multilevel nested dissection (`METIS_NodeND`; Karypis and
/// Kumar, SIAM J. Sci. Comput. 20, 1998), from the C library that
/// `metis-sys` builds from its vendored sources. Returns (fwd, inv) as
/// [`nested_dissection`] does (METIS's `perm` and `iperm`), or why METIS
/// could not order the matrix.
#[allow(unsafe_code)]
pub(crate) fn metis_nested_dissection(
    n: usize,
    col_ptr: &[usize],
    row_idx: &[usize],
) -> Result<(Vec<usize>, Vec<usize>), String> {
    use metis_sys::idx_t;
    let too_big = || format!("a matrix of {n} unknowns is too large for METIS's 32-bit indices");
    let nvtxs = idx_t::try_from(n).map_err(|_| too_big())?;
    // Symmetric adjacency without the diagonal (METIS's xadj/adjncy);
    // every vertex is < n, which fits idx_t (checked above).
    let (deg, mut adjncy) = symmetric_adjacency(n, col_ptr, row_idx, |v| v as idx_t);
    if deg[n] == 0 {
        // No off-diagonal entries: any order is fill-free.
        return Ok(((0..n).collect(), (0..n).collect()));
    }
    let mut xadj: Vec<idx_t> = deg
        .iter()
        .map(|&d| idx_t::try_from(d).map_err(|_| too_big()))
        .collect::<Result<_, _>>()?;
    drop(deg);
    let mut nv = nvtxs;
    let mut perm: Vec<idx_t> = vec![0; n];
    let mut iperm: Vec<idx_t> = vec![0; n];
    // SAFETY: METIS_NodeND reads nvtxs, xadj (nvtxs + 1 entries) and
    // adjncy (xadj[nvtxs] entries, each a vertex < nvtxs, no self-loops,
    // symmetric), all built above, and writes nvtxs entries to perm and
    // iperm, which have n = nvtxs. Null vwgt and options select unit
    // weights and METIS's defaults (0-based numbering). It keeps no pointer
    // after returning.
    let status = unsafe {
        metis_sys::METIS_NodeND(
            &mut nv,
            xadj.as_mut_ptr(),
            adjncy.as_mut_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            perm.as_mut_ptr(),
            iperm.as_mut_ptr(),
        )
    };
    if status != metis_sys::rstatus_et_METIS_OK {
        return Err(format!("METIS_NodeND failed (status {status})"));
    }
    let to_usize = |v: Vec<idx_t>| -> Result<Vec<usize>, String> {
        v.into_iter()
            .map(|x| usize::try_from(x).ok().filter(|&x| x < n))
            .collect::<Option<_>>()
            .ok_or_else(|| "METIS_NodeND returned an index out of range".to_string())
    };
    Ok((to_usize(perm)?, to_usize(iperm)?))
}

#[cfg(test)]
mod tests {
    /// `fwd` is a permutation and `inv` its inverse.
    fn assert_permutation(fwd: &[usize], inv: &[usize]) {
        let mut seen = vec![false; fwd.len()];
        for &v in fwd {
            assert!(!seen[v]);
            seen[v] = true;
        }
        for (new, &old) in fwd.iter().enumerate() {
            assert_eq!(inv[old], new);
        }
    }

    #[test]
    fn is_a_permutation_and_orders_separator_last() {
        // Path 0-1-...-199 (upper pattern with diagonal).
        let n = 200;
        let mut col_ptr = vec![0];
        let mut row_idx = Vec::new();
        for j in 0..n {
            if j > 0 {
                row_idx.push(j - 1);
            }
            row_idx.push(j);
            col_ptr.push(row_idx.len());
        }
        let (fwd, inv) = super::nested_dissection(n, &col_ptr, &row_idx);
        assert_permutation(&fwd, &inv);
        // The top separator of a path is one middle vertex, ordered last.
        let last = fwd[n - 1];
        assert!((90..110).contains(&last), "{last}");
    }

    #[test]
    fn metis_gives_a_permutation_and_its_inverse() {
        // A 30x30 grid, upper pattern with diagonal.
        let side = 30;
        let n = side * side;
        let mut col_ptr = vec![0];
        let mut row_idx = Vec::new();
        for j in 0..n {
            if j >= side {
                row_idx.push(j - side);
            }
            if j % side > 0 {
                row_idx.push(j - 1);
            }
            row_idx.push(j);
            col_ptr.push(row_idx.len());
        }
        let (fwd, inv) = super::metis_nested_dissection(n, &col_ptr, &row_idx).unwrap();
        assert_permutation(&fwd, &inv);
        assert_ne!(fwd, (0..n).collect::<Vec<_>>(), "METIS reordered nothing");
        // A diagonal matrix has nothing to order.
        let (fwd, _) = super::metis_nested_dissection(3, &[0, 1, 2, 3], &[0, 1, 2]).unwrap();
        assert_eq!(fwd, [0, 1, 2]);
    }
}
