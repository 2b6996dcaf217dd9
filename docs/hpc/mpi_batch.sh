#!/bin/bash
# exoderm sweep over MPI ranks on several nodes (docs/sweeps.md, "HPC"): the ranks deal the
# runs out among themselves and rank 0 writes the table. The output folder must be on a file
# system all nodes share (the journal of finished runs lives beside the result).
#
#   sbatch docs/hpc/mpi_batch.sh sweep.toml results/sweep.h5
#
# Resubmitting the same job resumes the sweep: finished runs are skipped.
#SBATCH --job-name=exoderm-mpi-sweep
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=4
#SBATCH --cpus-per-task=4
#SBATCH --time=08:00:00
#SBATCH --output=exoderm-mpi-sweep-%j.log
set -euo pipefail

sweep_file=${1:?usage: sbatch mpi_batch.sh SWEEP_FILE RESULT.h5}
result=${2:?usage: sbatch mpi_batch.sh SWEEP_FILE RESULT.h5}
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
# Each rank runs its share of the runs with OMP_NUM_THREADS threads.
mpirun --bind-to none exoderm sweep "$sweep_file" -o "$result" -q
