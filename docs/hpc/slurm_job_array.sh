#!/bin/bash
# exoderm sweep as a Slurm job array: each array task runs one shard of the sweep, and a
# final job merges the shards (docs/sweeps.md, "HPC").
#
#   sbatch --array=1-50 docs/hpc/slurm_job_array.sh sweep.toml results
#   sbatch --dependency=afterok:<array job id> --wrap \
#       "exoderm merge results/shard_*.h5 -o results/sweep.h5"
#
# A task that is killed (time limit, preemption) resumes where it stopped when resubmitted
# with the same array index: finished runs are kept in results/shard_K.h5.runs/.
#SBATCH --job-name=exoderm-sweep
#SBATCH --cpus-per-task=8
#SBATCH --time=04:00:00
#SBATCH --output=exoderm-sweep-%A_%a.log
set -euo pipefail

sweep_file=${1:?usage: sbatch --array=1-N slurm_job_array.sh SWEEP_FILE OUTPUT_DIR}
out_dir=${2:?usage: sbatch --array=1-N slurm_job_array.sh SWEEP_FILE OUTPUT_DIR}
shards=${SLURM_ARRAY_TASK_COUNT:?run this script with sbatch --array}
k=${SLURM_ARRAY_TASK_ID:?run this script with sbatch --array}
# Array indices must be 1..N (sbatch --array=1-N).
mkdir -p "$out_dir"
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
exoderm sweep "$sweep_file" --shard "$k/$shards" -o "$out_dir/shard_$k.h5" -q
